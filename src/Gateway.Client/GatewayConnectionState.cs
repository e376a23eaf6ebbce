namespace Gateway.Client;

/// <summary>Where a <see cref="GatewayClient"/> is. Connected means <c>connection.established</c> arrived, not merely the transport.</summary>
public enum GatewayConnectionState
{
    /// <summary>Not started, stopped, or closed for good (after <see cref="GatewayClient.Closed"/>).</summary>
    Disconnected,

    /// <summary><see cref="GatewayClient.StartAsync"/> is running.</summary>
    Connecting,

    /// <summary>A session is open: <see cref="GatewayClient.SessionId"/> names it.</summary>
    Connected,

    /// <summary>The connection was lost and is being re-established; a new session follows.</summary>
    Reconnecting,
}
