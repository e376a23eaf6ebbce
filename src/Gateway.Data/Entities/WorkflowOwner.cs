namespace Gateway.Data.Entities;

/// <summary>Who created a workflow through the gateway (Gateway's table gateway_workflow_owners).</summary>
public sealed class WorkflowOwner
{
    public required string WorkflowId { get; set; }

    /// <summary>The creator's user id (the token's <c>sub</c>).</summary>
    public required string CreatedBy { get; set; }

    public DateTime CreatedAt { get; set; }
}
