namespace Gateway.Data.Entities;

/// <summary>A row of <c>workflow_tasks</c>: task <see cref="TaskId"/> is step <see cref="Sequence"/> of workflow <see cref="WorkflowId"/>.</summary>
public sealed class WorkflowTask
{
    public string WorkflowId { get; set; } = string.Empty;

    public string TaskId { get; set; } = string.Empty;

    /// <summary>Position in the workflow, from 0; not unique, so a reorder can be written row by row.</summary>
    public int Sequence { get; set; }

    public DateTime CreatedAt { get; set; }

    public Workflow? Workflow { get; set; }

    public AgentTask? AgentTask { get; set; }
}
