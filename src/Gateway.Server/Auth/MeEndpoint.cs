using System.Globalization;
using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Gateway.Server.Auth;

/// <summary>The caller as the gateway sees it: <c>GET /api/me</c>.</summary>
/// <param name="UserId">The token's <c>sub</c> (<c>anonymous</c> with Auth:AllowAnonymous and no token).</param>
/// <param name="Roles">The token's <c>role</c> claims.</param>
/// <param name="ExpiresAt">When the token expires (UTC); null for the anonymous user.</param>
public sealed record CurrentUser(string UserId, IReadOnlyList<string> Roles, DateTimeOffset? ExpiresAt);

public static class MeEndpoint
{
    public const string Route = "/api/me";

    /// <summary>
    /// <c>GET /api/me</c>: <c>{ userId, roles, expiresAt }</c> of the caller, so a dashboard can check a pasted token.
    /// 401 without a valid token, 403 with one that has no gateway role.
    /// </summary>
    public static IEndpointRouteBuilder MapGatewayMe(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet(Route, GetMe).RequireAuthorization(GatewayPolicies.User).WithName("GetMe");
        return endpoints;
    }

    private static Ok<CurrentUser> GetMe(ClaimsPrincipal user)
    {
        var userId = user.FindFirst(GatewayClaimTypes.UserId)?.Value ?? user.Identity?.Name ?? string.Empty;
        var roles = user.FindAll(GatewayClaimTypes.Role).Select(c => c.Value).Distinct(StringComparer.Ordinal).ToList();
        var expiresAt = long.TryParse(user.FindFirst(GatewayClaimTypes.Expires)?.Value, NumberStyles.None, CultureInfo.InvariantCulture, out var exp)
            ? DateTimeOffset.FromUnixTimeSeconds(exp)
            : (DateTimeOffset?)null;
        return TypedResults.Ok(new CurrentUser(userId, roles, expiresAt));
    }
}
