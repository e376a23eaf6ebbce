namespace Gateway.Data.Entities;

/// <summary>
/// tool_executions.status. Stored as pending, running, completed, failed, timeout, cancelled,
/// exactly the CHECK set of the tool_executions table.
/// </summary>
public enum ToolExecutionStatus
{
    Pending = 0,
    Running,
    Completed,
    Failed,
    Timeout,
    Cancelled,
}
