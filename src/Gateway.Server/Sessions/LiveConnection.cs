using Gateway.Contracts;
using Microsoft.AspNetCore.SignalR;

namespace Gateway.Server.Sessions;

/// <summary>A connection open on this node and its session.</summary>
internal sealed class LiveConnection
{
    private string? _closeReason;

    public required string SessionId { get; init; }

    public required string ConnectionId { get; init; }

    public required string ClientId { get; init; }

    public required string? UserId { get; init; }

    /// <summary>A sessions.connection_type value (<see cref="ConnectionTypes"/>).</summary>
    public required string ConnectionType { get; init; }

    /// <summary>"json" or "messagepack".</summary>
    public required string Protocol { get; init; }

    public required DateTime OpenedAt { get; init; }

    /// <summary>
    /// The metadata written with the row, kept as the record (its strings are the request's own) and serialised when
    /// the session is described: the JSON text per connection was about half a kilobyte of heap for thousands of
    /// connections.
    /// </summary>
    public required SessionMetadata Metadata { get; init; }

    public required HubCallerContext Context { get; init; }

    public TokenBucket? Invocations { get; init; }

    /// <summary>When the connection's access token expires (<see cref="TokenExpiryWatch"/> closes it then); null: never.</summary>
    public DateTimeOffset? TokenExpiresAt { get; init; }

    /// <summary>Why the gateway is closing this connection, set before it aborts it; null when the client left.</summary>
    public string? CloseReason => Volatile.Read(ref _closeReason);

    /// <summary>Records the first reason only: a connection closed as stale is not later "disconnected by admin".</summary>
    public bool TrySetCloseReason(string reason) => Interlocked.CompareExchange(ref _closeReason, reason, null) is null;
}
