namespace Gateway.Contracts;

/// <summary>Values of <c>sessions.connection_type</c> for the SignalR transports.</summary>
public static class ConnectionTypes
{
    public const string WebSocket = "websocket";
    public const string ServerSentEvents = "server_sent_events";
    public const string LongPolling = "long_polling";
}
