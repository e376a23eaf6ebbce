namespace Gateway.Data.Entities;

/// <summary>
/// tasks.status. Stored as the snake_case name (pending, queued, running, paused, completed, failed, cancelled),
/// exactly the CHECK set of the tasks table. Legal transitions are the application's business, not the schema's.
/// </summary>
public enum AgentTaskStatus
{
    Pending = 0,
    Queued,
    Running,
    Paused,
    Completed,
    Failed,
    Cancelled,
}
