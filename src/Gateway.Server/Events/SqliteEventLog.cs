using Gateway.Contracts;
using Gateway.Data;
using Gateway.Data.Entities;
using Microsoft.EntityFrameworkCore;

namespace Gateway.Server.Events;

/// <summary>The event log in <c>gateway_events</c> and <c>gateway_log</c>, through EF Core.</summary>
internal sealed class SqliteEventLog : IEventLog
{
    private readonly IDbContextFactory<GatewayDbContext> _contexts;

    public SqliteEventLog(IDbContextFactory<GatewayDbContext> contexts)
    {
        _contexts = contexts;
    }

    public void Append(GatewayDbContext change, EventLogEntry entry) => change.Events.Add(entry);

    public async Task<long> HeadAsync(CancellationToken cancellationToken)
    {
        await using var db = await _contexts.CreateDbContextAsync(cancellationToken);
        // AUTOINCREMENT's counter, so that a log pruned to empty still answers the last id it gave.
        return await db.Database.SqlQuery<long>(
            $"SELECT COALESCE(MAX(v), 0) AS Value FROM (SELECT MAX(id) AS v FROM gateway_events UNION ALL SELECT seq FROM sqlite_sequence WHERE name = 'gateway_events')")
            .SingleAsync(cancellationToken);
    }

    public async Task<EventLogState> StateAsync(CancellationToken cancellationToken)
    {
        await using var db = await _contexts.CreateDbContextAsync(cancellationToken);
        var row = await db.Database.SqlQuery<StateRow>($"SELECT epoch AS Epoch, retention_floor AS RetentionFloor FROM gateway_log WHERE id = 1")
            .SingleOrDefaultAsync(cancellationToken);
        return new EventLogState(row?.Epoch, row?.RetentionFloor ?? 0);
    }

    /// <summary>The one row of <c>gateway_log</c>, read in one query.</summary>
    private sealed class StateRow
    {
        public string? Epoch { get; set; }

        public long RetentionFloor { get; set; }
    }

    public async Task<List<EventLogEntry>> ReadAfterAsync(EventLogRead read, CancellationToken cancellationToken)
    {
        await using var db = await _contexts.CreateDbContextAsync(cancellationToken);
        var query = db.Events.AsNoTracking().Where(e => e.Id > read.After);
        if (read.UpTo is { } upTo)
        {
            query = query.Where(e => e.Id <= upTo);
        }

        if (read.MinPriority > EventPriorities.Low)
        {
            query = query.Where(e => e.Priority >= read.MinPriority);
        }

        query = read.Scope switch
        {
            SubscriptionScopes.Task => query.Where(e => e.TaskId == read.SubjectId),
            SubscriptionScopes.Workflow => query.Where(e => e.WorkflowId == read.SubjectId),
            SubscriptionScopes.ToolExecution => query.Where(e => e.ExecutionId == read.SubjectId),
            _ => query,
        };
        return await EventLogPages.ReadAsync(query.OrderBy(e => e.Id), read.MaxBytes, cancellationToken);
    }

    public async Task<int> PruneAsync(GatewayDbContext change, string cutoff, int chunk, CancellationToken cancellationToken)
    {
        var end = await change.Database.SqlQuery<long?>(
            $"""
            SELECT MAX(id) AS Value FROM (SELECT id FROM gateway_events ORDER BY id LIMIT {chunk})
            WHERE id < COALESCE(
                (SELECT MIN(id) FROM (SELECT id, created_at FROM gateway_events ORDER BY id LIMIT {chunk}) WHERE created_at >= {cutoff}),
                9223372036854775807)
            """).SingleAsync(cancellationToken);
        if (end is not { } last)
        {
            return 0;
        }

        var count = await change.Database.ExecuteSqlAsync($"DELETE FROM gateway_events WHERE id <= {last}", cancellationToken);
        await change.Database.ExecuteSqlAsync($"UPDATE gateway_log SET retention_floor = {last} WHERE id = 1 AND retention_floor < {last}", cancellationToken);
        return count;
    }
}
