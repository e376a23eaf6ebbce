namespace Gateway.Data.Entities;

/// <summary>A row of <c>tasks</c>: the unit of work the orchestrator hands to an agent.</summary>
public sealed class AgentTask
{
    /// <summary>id: TEXT primary key (a UUID in the orchestrator).</summary>
    public required string Id { get; set; }

    public required string Title { get; set; }

    public string? Description { get; set; }

    /// <summary>task_type: free text chosen by the orchestrator.</summary>
    public required string TaskType { get; set; }

    public AgentTaskStatus Status { get; set; } = AgentTaskStatus.Pending;

    /// <summary>config: required JSON text (the schema checks <c>json_valid</c>); the column default is <c>{}</c>.</summary>
    public string Config { get; set; } = "{}";

    /// <summary>metadata: optional JSON text.</summary>
    public string? Metadata { get; set; }

    public string? WorkspacePath { get; set; }

    /// <summary>Set to the clock's time on insert when left at <c>default</c>.</summary>
    public DateTime CreatedAt { get; set; }

    /// <summary>Set on insert (when unset) and on every update; the optimistic concurrency token.</summary>
    public DateTime UpdatedAt { get; set; }

    public DateTime? StartedAt { get; set; }

    public DateTime? CompletedAt { get; set; }

    public string? Error { get; set; }

    public ICollection<ToolExecution> ToolExecutions { get; } = new List<ToolExecution>();

    /// <summary>The workflows this task belongs to, through <c>workflow_tasks</c>.</summary>
    public ICollection<WorkflowTask> WorkflowTasks { get; } = new List<WorkflowTask>();
}
