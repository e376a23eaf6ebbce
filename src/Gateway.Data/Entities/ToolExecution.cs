namespace Gateway.Data.Entities;

/// <summary>A row of <c>tool_executions</c>: the audit record of one tool an agent ran for a task.</summary>
public sealed class ToolExecution
{
    public required string Id { get; set; }

    public string TaskId { get; set; } = string.Empty;

    public required string ToolName { get; set; }

    /// <summary>arguments: required JSON text.</summary>
    public required string Arguments { get; set; }

    public string? Output { get; set; }

    public ToolExecutionStatus Status { get; set; } = ToolExecutionStatus.Pending;

    public string? Error { get; set; }

    public DateTime CreatedAt { get; set; }

    /// <summary>When the tool began running; <see cref="DurationMs"/> = completed_at − started_at.</summary>
    public DateTime? StartedAt { get; set; }

    public DateTime? CompletedAt { get; set; }

    public long? DurationMs { get; set; }

    public AgentTask? AgentTask { get; set; }
}
