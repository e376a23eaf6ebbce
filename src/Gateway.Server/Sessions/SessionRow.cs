namespace Gateway.Server.Sessions;

/// <summary>A new session as the writer inserts it.</summary>
internal sealed record SessionRow(
    string Id,
    string ClientId,
    string? UserId,
    string ConnectionType,
    bool IsActive,
    string Metadata,
    DateTime At);
