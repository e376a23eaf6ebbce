using Gateway.Data;
using Microsoft.EntityFrameworkCore;

namespace Gateway.Server.Events;

/// <summary>
/// The event log on PostgreSQL. An identity's values are taken before commit and commits finish in any order, so
/// alone they would let a reader see id 8 before 7 commits and then skip 7. Every appending transaction therefore
/// takes one transaction-scoped advisory lock before its first insert and holds it to its commit or rollback: ids are
/// taken and made visible one transaction at a time, in commit order, on every node. The cost: appends from all nodes
/// serialise (one lock holder at a time, for the length of a change writer's group). Readers take no lock.
/// The same statement queues a notification on <see cref="Channel"/>, sent at commit only, that wakes the other
/// nodes' followers (<see cref="PostgresLogListener"/>).
/// </summary>
internal sealed class PostgresEventLog(IDbContextFactory<GatewayDbContext> contexts, string nodeId) : EfCoreEventLog(contexts)
{
    /// <summary>The channel on which commits to the shared log (events, signals) are announced; the payload is the node id.</summary>
    public const string Channel = "gateway_log";

    /// <summary>
    /// The events' advisory lock (its key derived from its name, as the signals' and the sessions' are), the
    /// notification, and the transaction's id (by which <see cref="PostgresCommitOutcome"/> settles a lost commit), in
    /// one round trip.
    /// </summary>
    public override async Task<long?> BeginAppendsAsync(GatewayDbContext change, CancellationToken cancellationToken) =>
        await change.Database.SqlQuery<long>(
            $"""
            SELECT pg_current_xact_id()::text::bigint AS "Value"
            FROM (SELECT pg_advisory_xact_lock(hashtextextended('gateway.events', 0)), pg_notify('gateway_log', {nodeId})) AS taken
            """).SingleAsync(cancellationToken);

    public override async Task<long> HeadAsync(CancellationToken cancellationToken)
    {
        await using var db = await Contexts.CreateDbContextAsync(cancellationToken);
        // The floor too: a log pruned to empty still answers the last id it gave.
        return await db.Database.SqlQuery<long>(
            $"""SELECT GREATEST((SELECT COALESCE(MAX(id), 0) FROM gateway_events), (SELECT COALESCE(MAX(retention_floor), 0) FROM gateway_log)) AS "Value" """)
            .SingleAsync(cancellationToken);
    }

    public override async Task<int> PruneAsync(GatewayDbContext change, DateTime cutoff, int chunk, CancellationToken cancellationToken)
    {
        var at = DateTime.SpecifyKind(cutoff, DateTimeKind.Utc);
        var end = await change.Database.SqlQuery<long?>(
            $"""
            WITH oldest AS (SELECT id, created_at FROM gateway_events ORDER BY id LIMIT {chunk})
            SELECT MAX(id) AS "Value" FROM oldest
            WHERE id < COALESCE((SELECT MIN(id) FROM oldest WHERE created_at >= {at}), 9223372036854775807)
            """).SingleAsync(cancellationToken);
        return end is { } last ? await DeleteThroughAsync(change, last, cancellationToken) : 0;
    }
}
