using Gateway.Contracts;

namespace Gateway.Server.Sessions;

/// <summary>The <c>closeReason</c> values written into a closed session's metadata.</summary>
internal static class CloseReasons
{
    /// <summary>The client closed its connection.</summary>
    public const string ClientClosed = "client_closed";

    /// <summary>The transport failed (network, protocol error) without a more precise reason.</summary>
    public const string TransportError = "transport_error";

    /// <summary>The node restarted after a crash or kill and closed what the earlier run left open.</summary>
    public const string NodeRestarted = "node_restarted";

    /// <summary>
    /// The connection's queue of undelivered events overflowed (the client stopped reading, or reads slower than its
    /// events come): it is closed so that its client resumes from its last id instead of the gateway buffering
    /// without bound.
    /// </summary>
    public const string FellBehind = "fell_behind";

    /// <summary>The node holding the session was lost (its registry row went unbeaten), and a live peer closed it.</summary>
    public const string NodeLost = HubErrorCodes.NodeLost;

    public const string Stale = HubErrorCodes.Stale;
    public const string DisconnectedByAdmin = HubErrorCodes.DisconnectedByAdmin;
    public const string TooManyConnections = HubErrorCodes.TooManyConnections;
    public const string MessageTooLarge = HubErrorCodes.MessageTooLarge;
    public const string TokenExpired = HubErrorCodes.TokenExpired;
    public const string ServerShutdown = HubErrorCodes.ServerShutdown;
}
