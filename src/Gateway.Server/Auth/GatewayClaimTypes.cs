namespace Gateway.Server.Auth;

/// <summary>The claims the gateway reads from a token, under their JWT names (inbound claim mapping is off).</summary>
public static class GatewayClaimTypes
{
    /// <summary>The user id (<c>sub</c>); the principal's name.</summary>
    public const string UserId = "sub";

    /// <summary>One claim per gateway role (<c>role</c>), see <see cref="Gateway.Contracts.GatewayRoles"/>.</summary>
    public const string Role = "role";

    /// <summary>Expiry, seconds since the Unix epoch (<c>exp</c>).</summary>
    public const string Expires = "exp";
}
