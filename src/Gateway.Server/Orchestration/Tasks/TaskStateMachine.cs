using Gateway.Data.Entities;

namespace Gateway.Server.Orchestration.Tasks;

/// <summary>
/// The legal status changes of a task. pending → queued | running | cancelled; queued → running | pending |
/// cancelled; running → paused | completed | failed | cancelled; paused → running | cancelled; failed → queued
/// (a retry). completed and cancelled are final.
/// </summary>
internal static class TaskStateMachine
{
    private static readonly Dictionary<AgentTaskStatus, AgentTaskStatus[]> Next = new()
    {
        [AgentTaskStatus.Pending] = [AgentTaskStatus.Queued, AgentTaskStatus.Running, AgentTaskStatus.Cancelled],
        [AgentTaskStatus.Queued] = [AgentTaskStatus.Running, AgentTaskStatus.Pending, AgentTaskStatus.Cancelled],
        [AgentTaskStatus.Running] = [AgentTaskStatus.Paused, AgentTaskStatus.Completed, AgentTaskStatus.Failed, AgentTaskStatus.Cancelled],
        [AgentTaskStatus.Paused] = [AgentTaskStatus.Running, AgentTaskStatus.Cancelled],
        [AgentTaskStatus.Failed] = [AgentTaskStatus.Queued],
        [AgentTaskStatus.Completed] = [],
        [AgentTaskStatus.Cancelled] = [],
    };

    public static bool CanMove(AgentTaskStatus from, AgentTaskStatus to) => Next[from].Contains(to);

    public static IReadOnlyList<AgentTaskStatus> From(AgentTaskStatus status) => Next[status];

    public static bool IsFinal(AgentTaskStatus status) => status is AgentTaskStatus.Completed or AgentTaskStatus.Failed or AgentTaskStatus.Cancelled;
}
