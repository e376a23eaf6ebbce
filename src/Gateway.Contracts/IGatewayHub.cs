namespace Gateway.Contracts;

/// <summary>
/// Methods a client invokes on <see cref="GatewayRoutes.Hub"/>. Errors come back as hub errors whose message
/// starts with a <see cref="HubErrorCodes"/> code; the connection stays open.
/// </summary>
public interface IGatewayHub
{
    /// <summary>Keeps the session alive (any invocation does); answers with the server's time.</summary>
    Task<HeartbeatReply> Heartbeat();

    /// <summary>Admin: receive <c>session.opened</c> and <c>session.closed</c> for every session of the gateway.</summary>
    Task SubscribeSessions();

    /// <summary>Admin: stop receiving session events.</summary>
    Task UnsubscribeSessions();

    /// <summary>Admin: close a live session with a reason; the row is marked inactive. False when it is not open.</summary>
    Task<bool> DisconnectSession(string sessionId, string reason);
}
