using Gateway.Data;
using Gateway.Data.Conversion;
using Microsoft.EntityFrameworkCore;

namespace Gateway.Server.Events;

/// <summary>The event log on SQLite: its single write lock already puts ids in commit order.</summary>
internal sealed class SqliteEventLog(IDbContextFactory<GatewayDbContext> contexts) : EfCoreEventLog(contexts)
{
    /// <summary>Nothing to take: the writer's transaction holds SQLite's write lock from its start (BEGIN IMMEDIATE).</summary>
    public override Task<long?> BeginAppendsAsync(GatewayDbContext change, CancellationToken cancellationToken) => Task.FromResult<long?>(null);

    public override async Task<long> HeadAsync(CancellationToken cancellationToken)
    {
        await using var db = await Contexts.CreateDbContextAsync(cancellationToken);
        // AUTOINCREMENT's counter, so that a log pruned to empty still answers the last id it gave.
        return await db.Database.SqlQuery<long>(
            $"SELECT COALESCE(MAX(v), 0) AS Value FROM (SELECT MAX(id) AS v FROM gateway_events UNION ALL SELECT seq FROM sqlite_sequence WHERE name = 'gateway_events')")
            .SingleAsync(cancellationToken);
    }

    public override async Task<int> PruneAsync(GatewayDbContext change, DateTime cutoff, int chunk, CancellationToken cancellationToken)
    {
        var at = UtcDateTimeConverter.Format(cutoff);
        var end = await change.Database.SqlQuery<long?>(
            $"""
            SELECT MAX(id) AS Value FROM (SELECT id FROM gateway_events ORDER BY id LIMIT {chunk})
            WHERE id < COALESCE(
                (SELECT MIN(id) FROM (SELECT id, created_at FROM gateway_events ORDER BY id LIMIT {chunk}) WHERE created_at >= {at}),
                9223372036854775807)
            """).SingleAsync(cancellationToken);
        return end is { } last ? await DeleteThroughAsync(change, last, cancellationToken) : 0;
    }
}
