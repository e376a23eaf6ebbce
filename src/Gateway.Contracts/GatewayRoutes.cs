namespace Gateway.Contracts;

/// <summary>Paths of the gateway's endpoints.</summary>
public static class GatewayRoutes
{
    public const string Hub = "/hubs/gateway";

    /// <summary>Query parameter (or <see cref="ClientIdHeader"/>) naming a client across its reconnects.</summary>
    public const string ClientIdQuery = "clientId";

    public const string ClientIdHeader = "X-Client-Id";

    /// <summary>Query parameter (or <see cref="ClientVersionHeader"/>) recorded in the session's metadata.</summary>
    public const string ClientVersionQuery = "clientVersion";

    public const string ClientVersionHeader = "X-Client-Version";
}
