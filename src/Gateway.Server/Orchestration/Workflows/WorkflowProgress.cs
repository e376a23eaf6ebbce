using Gateway.Contracts;
using Gateway.Data.Entities;
using Gateway.Server.Events;
using Microsoft.EntityFrameworkCore;

namespace Gateway.Server.Orchestration.Workflows;

/// <summary>
/// workflow.progress, derived from a workflow's tasks whenever one of them changes: progress = completed tasks /
/// all tasks (0-100), current_task = the first task in sequence that is not completed. An active workflow whose
/// tasks are all completed becomes completed (workflow.completed); one with a failed task becomes failed
/// (workflow.failed).
/// </summary>
internal static class WorkflowProgress
{
    public static async Task EmitForTaskAsync(ChangeScope scope, string taskId, AgentTaskStatus newStatus, CancellationToken cancellationToken)
    {
        var workflowIds = await scope.Db.WorkflowTasks.Where(link => link.TaskId == taskId).Select(link => link.WorkflowId).ToListAsync(cancellationToken);
        foreach (var workflowId in workflowIds)
        {
            await EmitAsync(scope, workflowId, cancellationToken, changedTask: (taskId, newStatus));
        }
    }

    /// <param name="changedTask">A task whose new status is not saved yet (the change saves at its end).</param>
    public static async Task<int> EmitAsync(
        ChangeScope scope, string workflowId, CancellationToken cancellationToken, (string TaskId, AgentTaskStatus Status)? changedTask = null)
    {
        var tasks = await scope.Db.WorkflowTasks
            .Where(link => link.WorkflowId == workflowId)
            .OrderBy(link => link.Sequence).ThenBy(link => link.TaskId)
            .Select(link => new { link.TaskId, link.AgentTask!.Status })
            .ToListAsync(cancellationToken);
        var statuses = tasks
            .Select(t => (t.TaskId, Status: changedTask is { } c && c.TaskId == t.TaskId ? c.Status : t.Status))
            .ToList();
        var completed = statuses.Count(t => t.Status == AgentTaskStatus.Completed);
        var progress = statuses.Count == 0 ? 0 : (int)Math.Round(100.0 * completed / statuses.Count);
        var current = statuses.FirstOrDefault(t => t.Status != AgentTaskStatus.Completed).TaskId;
        scope.Emit(EventTypes.WorkflowProgress, EventPriorities.Low, new { workflow_id = workflowId, current_task = current, progress, completed, total = statuses.Count }, workflowId: workflowId);

        var workflow = await scope.Db.Workflows.FirstOrDefaultAsync(w => w.Id == workflowId, cancellationToken);
        if (workflow is { Status: WorkflowStatus.Active })
        {
            if (statuses.Count > 0 && completed == statuses.Count)
            {
                workflow.Status = WorkflowStatus.Completed;
                scope.Emit(EventTypes.WorkflowCompleted, EventPriorities.Normal, new { workflow_id = workflowId, timestamp = scope.Now }, workflowId: workflowId);
            }
            else if (statuses.FirstOrDefault(t => t.Status == AgentTaskStatus.Failed) is { TaskId: { } failedTask })
            {
                workflow.Status = WorkflowStatus.Failed;
                scope.Emit(
                    EventTypes.WorkflowFailed,
                    EventPriorities.High,
                    new { workflow_id = workflowId, error = $"task {failedTask} failed", timestamp = scope.Now },
                    workflowId: workflowId);
            }
        }

        return progress;
    }
}
