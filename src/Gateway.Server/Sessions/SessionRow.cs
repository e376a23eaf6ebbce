namespace Gateway.Server.Sessions;

/// <summary>A new session as the writer inserts it.</summary>
/// <param name="MaxUserSessions">Refuse the insert when the user has this many active sessions on the live nodes; null: no check.</param>
internal sealed record SessionRow(
    string Id,
    string ClientId,
    string? UserId,
    string ConnectionType,
    bool IsActive,
    string Metadata,
    DateTime At,
    int? MaxUserSessions = null);
