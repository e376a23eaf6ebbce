using Gateway.Data.Entities;

namespace Gateway.Server.Orchestration.Workflows;

/// <summary>
/// The legal status changes of a workflow, made by hand (REST or the hub):
/// <list type="bullet">
/// <item>draft → active | archived</item>
/// <item>active → paused | completed | failed | cancelled</item>
/// <item>paused → active | cancelled</item>
/// <item>completed | failed | cancelled → archived</item>
/// <item>archived is final.</item>
/// </list>
/// Besides these, <see cref="WorkflowProgress"/> moves an active workflow to completed (all its tasks completed) or
/// failed (one of its tasks failed) by itself. A move to the status the workflow already has is not a transition.
/// Where the database records no outcome (the orchestrator's workflows.status has no completed, failed or cancelled),
/// a workflow is ended by archiving it: active and paused may also move to archived.
/// </summary>
internal static class WorkflowStateMachine
{
    private static readonly Dictionary<WorkflowStatus, WorkflowStatus[]> Next = new()
    {
        [WorkflowStatus.Draft] = [WorkflowStatus.Active, WorkflowStatus.Archived],
        [WorkflowStatus.Active] = [WorkflowStatus.Paused, WorkflowStatus.Completed, WorkflowStatus.Failed, WorkflowStatus.Cancelled],
        [WorkflowStatus.Paused] = [WorkflowStatus.Active, WorkflowStatus.Cancelled],
        [WorkflowStatus.Completed] = [WorkflowStatus.Archived],
        [WorkflowStatus.Failed] = [WorkflowStatus.Archived],
        [WorkflowStatus.Cancelled] = [WorkflowStatus.Archived],
        [WorkflowStatus.Archived] = [],
    };

    public static bool CanMove(WorkflowStatus from, WorkflowStatus to, bool recordsOutcomes = true) => From(from, recordsOutcomes).Contains(to);

    public static IReadOnlyList<WorkflowStatus> From(WorkflowStatus status, bool recordsOutcomes = true) =>
        recordsOutcomes || status is not (WorkflowStatus.Active or WorkflowStatus.Paused) ? Next[status] : [.. Next[status], WorkflowStatus.Archived];

    /// <summary>
    /// Whether tasks may be added, removed or reordered: while the workflow is being prepared or run (draft, active,
    /// paused). A finished run (completed, failed, cancelled) and an archived workflow keep their task list.
    /// </summary>
    public static bool AcceptsTaskChanges(WorkflowStatus status) => status is WorkflowStatus.Draft or WorkflowStatus.Active or WorkflowStatus.Paused;
}
