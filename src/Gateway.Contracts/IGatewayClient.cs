namespace Gateway.Contracts;

/// <summary>
/// Events the gateway sends to clients. The method name is the SignalR target
/// (the orchestrator's names in brackets).
/// </summary>
public interface IGatewayClient
{
    /// <summary>[connection.established] First message of every connection, once its session row is committed.</summary>
    Task ConnectionEstablished(ConnectionEstablished established);

    /// <summary>
    /// [connection.closing] The gateway is about to close this connection (admin, stale, token expired, shutdown).
    /// The connection is aborted shortly after; <see cref="ConnectionClosing.Reconnect"/> says whether to come back.
    /// </summary>
    Task ConnectionClosing(ConnectionClosing notice);

    /// <summary>An event of a subscription, target EventReceived (the orchestrator's name is in <see cref="GatewayEvent.Type"/>).</summary>
    Task EventReceived(GatewayEvent gatewayEvent);

    /// <summary>[session.opened] To admins who subscribed to sessions.</summary>
    Task SessionOpened(SessionInfo session);

    /// <summary>[session.closed] To admins who subscribed to sessions.</summary>
    Task SessionClosed(SessionInfo session);
}
