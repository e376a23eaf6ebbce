namespace Gateway.Data.Entities;

/// <summary>A row of <c>gateway_events</c> (Gateway's own migration set): one event, appended with its change.</summary>
public sealed class EventLogEntry
{
    /// <summary>Assigned by SQLite (AUTOINCREMENT): strictly increasing, never reused.</summary>
    public long Id { get; set; }

    public required string EventType { get; set; }

    public int Priority { get; set; }

    public string? TaskId { get; set; }

    public string? WorkflowId { get; set; }

    public string? ExecutionId { get; set; }

    /// <summary>payload: the event's fields as a JSON object.</summary>
    public required string Payload { get; set; }

    public DateTime CreatedAt { get; set; }
}
