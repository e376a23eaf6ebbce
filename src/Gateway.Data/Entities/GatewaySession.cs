namespace Gateway.Data.Entities;

/// <summary>A row of <c>sessions</c>: one client connection, kept fresh by heartbeats.</summary>
public sealed class GatewaySession
{
    public required string Id { get; set; }

    /// <summary>Stable across a client's reconnects; a new connection gets a new session id.</summary>
    public required string ClientId { get; set; }

    public string? UserId { get; set; }

    public SessionConnectionType ConnectionType { get; set; }

    /// <summary>is_active: INTEGER 0/1.</summary>
    public bool IsActive { get; set; } = true;

    /// <summary>metadata: optional JSON text.</summary>
    public string? Metadata { get; set; }

    public DateTime CreatedAt { get; set; }

    /// <summary>Set on insert (when unset) and on every update; the optimistic concurrency token.</summary>
    public DateTime UpdatedAt { get; set; }

    /// <summary>Set to the clock's time on insert when left at <c>default</c>; the stale-session reaper scans it.</summary>
    public DateTime LastHeartbeat { get; set; }
}
