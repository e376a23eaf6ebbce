namespace Gateway.Data.Entities;

/// <summary>
/// workflows.status. Stored as draft, active, paused, completed, failed, cancelled, archived,
/// exactly the CHECK set of the workflows table.
/// </summary>
public enum WorkflowStatus
{
    Draft = 0,
    Active,
    Paused,
    Completed,
    Failed,
    Cancelled,
    Archived,
}
