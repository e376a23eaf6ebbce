namespace Gateway.Server.Auth;

/// <summary>
/// Authorization policies by name, for <c>RequireAuthorization(GatewayPolicies.Admin)</c> or
/// <c>[Authorize(Policy = GatewayPolicies.Admin)]</c>. <see cref="User"/> is also the fallback policy: every endpoint
/// requires it unless it names another policy or opts out with <c>.AllowAnonymous()</c> (the health endpoints).
/// A request without a valid token gets 401; one whose token lacks the role gets 403.
/// </summary>
public static class GatewayPolicies
{
    /// <summary>Authenticated, with at least one of the gateway's roles.</summary>
    public const string User = "User";

    /// <summary>Role admin.</summary>
    public const string Admin = "Admin";

    /// <summary>Role admin or dashboard.</summary>
    public const string Dashboard = "Dashboard";

    /// <summary>Role admin or agent.</summary>
    public const string Agent = "Agent";
}
