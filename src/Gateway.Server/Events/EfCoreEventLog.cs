using Gateway.Contracts;
using Gateway.Data;
using Gateway.Data.Entities;
using Microsoft.EntityFrameworkCore;

namespace Gateway.Server.Events;

/// <summary>
/// The event log in <c>gateway_events</c> and <c>gateway_log</c> through EF Core: the reads every provider shares.
/// What differs (how ids keep to commit order, the head, pruning's SQL) is each provider's.
/// </summary>
internal abstract class EfCoreEventLog : IEventLog
{
    protected EfCoreEventLog(IDbContextFactory<GatewayDbContext> contexts)
    {
        Contexts = contexts;
    }

    protected IDbContextFactory<GatewayDbContext> Contexts { get; }

    public abstract Task<long?> BeginAppendsAsync(GatewayDbContext change, CancellationToken cancellationToken);

    public void Append(GatewayDbContext change, EventLogEntry entry) => change.Events.Add(entry);

    public abstract Task<long> HeadAsync(CancellationToken cancellationToken);

    public abstract Task<int> PruneAsync(GatewayDbContext change, DateTime cutoff, int chunk, CancellationToken cancellationToken);

    public async Task<EventLogState> StateAsync(CancellationToken cancellationToken)
    {
        await using var db = await Contexts.CreateDbContextAsync(cancellationToken);
        var row = await db.Database.SqlQuery<StateRow>($"""SELECT epoch AS "Epoch", retention_floor AS "RetentionFloor" FROM gateway_log WHERE id = 1""")
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
        await using var db = await Contexts.CreateDbContextAsync(cancellationToken);
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

    /// <summary>Deletes ids up to <paramref name="last"/> and raises the floor to it (portable SQL).</summary>
    protected static async Task<int> DeleteThroughAsync(GatewayDbContext change, long last, CancellationToken cancellationToken)
    {
        var count = await change.Database.ExecuteSqlAsync($"DELETE FROM gateway_events WHERE id <= {last}", cancellationToken);
        await change.Database.ExecuteSqlAsync($"UPDATE gateway_log SET retention_floor = {last} WHERE id = 1 AND retention_floor < {last}", cancellationToken);
        return count;
    }
}
