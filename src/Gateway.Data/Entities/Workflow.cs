namespace Gateway.Data.Entities;

/// <summary>A row of <c>workflows</c>: a named JSON definition that groups tasks in sequence.</summary>
public sealed class Workflow
{
    public required string Id { get; set; }

    public required string Name { get; set; }

    public string? Description { get; set; }

    /// <summary>definition: required JSON text (the schema checks <c>json_valid</c>).</summary>
    public required string Definition { get; set; }

    public WorkflowStatus Status { get; set; } = WorkflowStatus.Draft;

    public DateTime CreatedAt { get; set; }

    /// <summary>Set on insert (when unset) and on every update; the optimistic concurrency token.</summary>
    public DateTime UpdatedAt { get; set; }

    /// <summary>The workflow's task links, in no particular order (order by <see cref="WorkflowTask.Sequence"/>).</summary>
    public ICollection<WorkflowTask> Tasks { get; } = new List<WorkflowTask>();
}
