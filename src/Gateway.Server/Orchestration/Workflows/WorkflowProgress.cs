using Gateway.Data;
using Gateway.Contracts;
using Gateway.Data.Entities;
using Gateway.Server.Events;
using Microsoft.EntityFrameworkCore;

namespace Gateway.Server.Orchestration.Workflows;

/// <summary>
/// workflow.progress, derived from a workflow's tasks whenever one of them changes: progress = completed tasks /
/// all tasks (0-100), current_task = the first task in sequence that is not completed. An active workflow whose
/// tasks are all completed becomes completed (workflow.completed); one with a failed task becomes failed
/// (workflow.failed). Where workflows.status has no completed (the orchestrator's schema), the workflow stays active
/// and the same events announce the outcome, once: when a change (or the activation) brings it about.
/// </summary>
internal static class WorkflowProgress
{
    /// <summary>Compiled once: it runs on every status change of every task, in a workflow or not.</summary>
    private static readonly CompiledPerModel<Func<GatewayDbContext, string, IAsyncEnumerable<string>>> WorkflowsOfTask = new(() =>
        EF.CompileAsyncQuery((GatewayDbContext db, string taskId) => db.WorkflowTasks.Where(link => link.TaskId == taskId).Select(link => link.WorkflowId)));

    public static async Task EmitForTaskAsync(
        ChangeScope scope, string taskId, AgentTaskStatus previousStatus, AgentTaskStatus newStatus, Database.SchemaValues schema, CancellationToken cancellationToken)
    {
        var workflowIds = new List<string>();
        await foreach (var workflowId in WorkflowsOfTask.For(scope.Db)(scope.Db, taskId).WithCancellation(cancellationToken))
        {
            workflowIds.Add(workflowId);
        }

        foreach (var workflowId in workflowIds)
        {
            await EmitAsync(scope, workflowId, schema, cancellationToken, changedTask: (taskId, previousStatus, newStatus));
        }
    }

    /// <param name="changedTask">A task whose new status is not saved yet (the change saves at its end), and its status before.</param>
    /// <param name="activated">The workflow has just been made active: its outcome, if it has one already, is news.</param>
    public static async Task<int> EmitAsync(
        ChangeScope scope,
        string workflowId,
        Database.SchemaValues schema,
        CancellationToken cancellationToken,
        (string TaskId, AgentTaskStatus Previous, AgentTaskStatus Status)? changedTask = null,
        bool activated = false)
    {
        var (before, statuses) = await CurrentTasksAsync(scope, workflowId, cancellationToken);
        if (changedTask is { } changed)
        {
            statuses = statuses.Select(t => (t.TaskId, t.TaskId == changed.TaskId ? changed.Status : t.Status)).ToList();
            // What this change brought about, whatever other changes of the same transaction did before it.
            before = statuses.Select(t => (t.TaskId, t.TaskId == changed.TaskId ? changed.Previous : t.Status)).ToList();
        }

        var completed = statuses.Count(t => t.Status == AgentTaskStatus.Completed);
        var progress = statuses.Count == 0 ? 0 : (int)Math.Round(100.0 * completed / statuses.Count);
        var current = statuses.FirstOrDefault(t => t.Status != AgentTaskStatus.Completed).TaskId;
        scope.Emit(EventTypes.WorkflowProgress, EventPriorities.Low, new { workflow_id = workflowId, current_task = current, progress, completed, total = statuses.Count }, workflowId: workflowId);

        var workflow = await scope.Db.Workflows.FirstOrDefaultAsync(w => w.Id == workflowId, cancellationToken);
        var outcome = OutcomeOf(statuses);
        if (workflow is not { Status: WorkflowStatus.Active } || outcome is null)
        {
            return progress;
        }

        var recorded = schema.RecordsWorkflowOutcomes;
        if (!recorded && !activated && OutcomeOf(before) == outcome)
        {
            // Announced when it came about; the workflow stays active, so this change is not news.
            return progress;
        }

        if (outcome == WorkflowStatus.Completed)
        {
            if (recorded)
            {
                workflow.Status = WorkflowStatus.Completed;
                EmitStatus(scope, workflowId, WorkflowStatus.Completed);
            }

            scope.Emit(EventTypes.WorkflowCompleted, EventPriorities.Normal, new { workflow_id = workflowId, timestamp = scope.Now }, workflowId: workflowId);
        }
        else
        {
            if (recorded)
            {
                workflow.Status = WorkflowStatus.Failed;
                EmitStatus(scope, workflowId, WorkflowStatus.Failed);
            }

            var failedTask = statuses.First(t => t.Status == AgentTaskStatus.Failed).TaskId;
            scope.Emit(
                EventTypes.WorkflowFailed,
                EventPriorities.High,
                new { workflow_id = workflowId, error = $"task {failedTask} failed", timestamp = scope.Now },
                workflowId: workflowId);
        }

        return progress;
    }

    /// <summary>Completed when every task is, failed when one is, else none yet.</summary>
    private static WorkflowStatus? OutcomeOf(List<(string TaskId, AgentTaskStatus Status)> statuses) =>
        statuses.Count > 0 && statuses.All(t => t.Status == AgentTaskStatus.Completed) ? WorkflowStatus.Completed
        : statuses.Any(t => t.Status == AgentTaskStatus.Failed) ? WorkflowStatus.Failed
        : null;

    /// <summary>An automatic move is a status change like any other: subscribers filtering on workflow.status see it.</summary>
    private static void EmitStatus(ChangeScope scope, string workflowId, WorkflowStatus status) =>
        scope.Emit(
            EventTypes.WorkflowStatus,
            EventPriorities.Normal,
            new { workflow_id = workflowId, status = Gateway.Data.Conversion.StoreEnum.ToStoreValue(status), previous_status = "active", timestamp = scope.Now },
            workflowId: workflowId);

    /// <summary>
    /// The workflow's tasks in sequence order with their statuses, as they will be once the change saves: the stored
    /// links and statuses, overlaid with what the change has not saved yet (links added, removed or renumbered in the
    /// change tracker, tasks whose status it changed). A change never saves itself, so a query alone would miss them.
    /// </summary>
    /// <returns>As stored (Before), and as it will be once saved (After).</returns>
    private static async Task<(List<(string TaskId, AgentTaskStatus Status)> Before, List<(string TaskId, AgentTaskStatus Status)> After)> CurrentTasksAsync(
        ChangeScope scope, string workflowId, CancellationToken cancellationToken)
    {
        var stored = await scope.Db.WorkflowTasks
            .Where(link => link.WorkflowId == workflowId)
            .Select(link => new { link.TaskId, link.Sequence, link.AgentTask!.Status })
            .ToListAsync(cancellationToken);
        var before = stored.OrderBy(link => link.Sequence).ThenBy(link => link.TaskId, StringComparer.Ordinal).Select(link => (link.TaskId, link.Status)).ToList();
        var links = stored.ToDictionary(link => link.TaskId, link => (link.Sequence, Status: (AgentTaskStatus?)link.Status), StringComparer.Ordinal);
        foreach (var entry in scope.Db.ChangeTracker.Entries<WorkflowTask>().Where(entry => entry.Entity.WorkflowId == workflowId))
        {
            if (entry.State is EntityState.Deleted or EntityState.Detached)
            {
                links.Remove(entry.Entity.TaskId);
            }
            else
            {
                links[entry.Entity.TaskId] = (entry.Entity.Sequence, links.TryGetValue(entry.Entity.TaskId, out var known) ? known.Status : null);
            }
        }

        var unknown = links.Where(link => link.Value.Status is null).Select(link => link.Key).ToList();
        if (unknown.Count > 0)
        {
            var statuses = await scope.Db.Tasks.Where(t => unknown.Contains(t.Id)).Select(t => new { t.Id, t.Status }).ToListAsync(cancellationToken);
            foreach (var task in statuses)
            {
                links[task.Id] = (links[task.Id].Sequence, task.Status);
            }
        }

        foreach (var entry in scope.Db.ChangeTracker.Entries<AgentTask>())
        {
            if (links.TryGetValue(entry.Entity.Id, out var link))
            {
                links[entry.Entity.Id] = (link.Sequence, entry.Entity.Status);
            }
        }

        var after = links
            .OrderBy(link => link.Value.Sequence).ThenBy(link => link.Key, StringComparer.Ordinal)
            .Select(link => (link.Key, link.Value.Status ?? AgentTaskStatus.Pending))
            .ToList();
        return (before, after);
    }
}
