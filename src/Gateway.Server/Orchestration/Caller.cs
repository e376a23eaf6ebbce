using System.Security.Claims;
using Gateway.Contracts;

namespace Gateway.Server.Orchestration;

/// <summary>Who asks for a change: agents may change the tasks they created, admins any.</summary>
internal sealed record Caller(string UserId, bool IsAdmin, bool IsAgent, bool IsDashboard)
{
    public static Caller From(ClaimsPrincipal? user) => new(
        user?.FindFirst("sub")?.Value ?? user?.Identity?.Name ?? "anonymous",
        user?.IsInRole(GatewayRoles.Admin) == true,
        user?.IsInRole(GatewayRoles.Agent) == true,
        user?.IsInRole(GatewayRoles.Dashboard) == true);

    public bool CanWrite => IsAdmin || IsAgent;
}
