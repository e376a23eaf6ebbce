namespace Gateway.Data.Entities;

/// <summary>
/// sessions.connection_type. Stored as websocket, http, grpc, server_sent_events, long_polling,
/// exactly the CHECK set of the sessions table (the orchestrator's three plus the other SignalR transports).
/// </summary>
public enum SessionConnectionType
{
    Websocket = 0,
    Http,
    Grpc,
    ServerSentEvents,
    LongPolling,
}
