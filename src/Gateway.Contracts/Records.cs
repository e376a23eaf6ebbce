using MessagePack;

namespace Gateway.Contracts;

/// <summary><c>connection.established</c>: sent to a client once its session row is committed.</summary>
[MessagePackObject]
public sealed record ConnectionEstablished(
    [property: Key("sessionId")] string SessionId,
    [property: Key("clientId")] string ClientId,
    [property: Key("nodeId")] string NodeId,
    [property: Key("timestamp")] DateTime Timestamp,
    [property: Key("heartbeatIntervalSeconds")] double HeartbeatIntervalSeconds);

/// <summary>The answer to <c>Heartbeat</c>: the server's UTC time.</summary>
[MessagePackObject]
public sealed record HeartbeatReply(
    [property: Key("serverTime")] DateTime ServerTime);

/// <summary>A session as admins see it (REST and <c>session.opened</c> / <c>session.closed</c> events).</summary>
[MessagePackObject]
public sealed record SessionInfo(
    [property: Key("id")] string Id,
    [property: Key("clientId")] string ClientId,
    [property: Key("userId")] string? UserId,
    [property: Key("connectionType")] string ConnectionType,
    [property: Key("isActive")] bool IsActive,
    [property: Key("metadata")] string? Metadata,
    [property: Key("createdAt")] DateTime CreatedAt,
    [property: Key("updatedAt")] DateTime UpdatedAt,
    [property: Key("lastHeartbeat")] DateTime LastHeartbeat);

/// <summary><c>connection.closing</c>: why the gateway closes this connection, and whether reconnecting makes sense.</summary>
[MessagePackObject]
public sealed record ConnectionClosing(
    [property: Key("code")] string Code,
    [property: Key("reason")] string Reason,
    [property: Key("reconnect")] bool Reconnect);
