using Gateway.Data.Entities;

namespace Gateway.Server.Orchestration.ToolExecutions;

/// <summary>
/// The legal status changes of a tool execution: pending → running; running → completed | failed | timeout |
/// cancelled. completed, failed, timeout and cancelled are final: an execution ends once. Gateway starts executions
/// as running (pending rows come from the orchestrator itself); cancelled is the orchestrator's (its task was
/// cancelled), no Gateway endpoint sets it.
/// </summary>
internal static class ToolExecutionStateMachine
{
    private static readonly Dictionary<ToolExecutionStatus, ToolExecutionStatus[]> Next = new()
    {
        [ToolExecutionStatus.Pending] = [ToolExecutionStatus.Running],
        [ToolExecutionStatus.Running] = [ToolExecutionStatus.Completed, ToolExecutionStatus.Failed, ToolExecutionStatus.Timeout, ToolExecutionStatus.Cancelled],
        [ToolExecutionStatus.Completed] = [],
        [ToolExecutionStatus.Failed] = [],
        [ToolExecutionStatus.Timeout] = [],
        [ToolExecutionStatus.Cancelled] = [],
    };

    public static bool CanMove(ToolExecutionStatus from, ToolExecutionStatus to) => Next[from].Contains(to);

    public static IReadOnlyList<ToolExecutionStatus> From(ToolExecutionStatus status) => Next[status];

    public static bool IsFinal(ToolExecutionStatus status) => Next[status].Length == 0;
}
