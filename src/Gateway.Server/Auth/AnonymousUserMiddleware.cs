using System.Security.Claims;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;

namespace Gateway.Server.Auth;

/// <summary>
/// With Auth:AllowAnonymous (local development only; otherwise it passes every request on untouched), gives a request that carries no token the user
/// <c>anonymous</c> with Auth:AnonymousRoles. A request whose token failed stays unauthenticated, so a bad or
/// expired token still gets 401 rather than silently becoming anonymous.
/// </summary>
internal sealed class AnonymousUserMiddleware
{
    public const string UserId = "anonymous";
    public const string AuthenticationType = "Anonymous";

    private readonly RequestDelegate _next;
    private readonly bool _enabled;
    private readonly IReadOnlyList<string> _roles;

    public AnonymousUserMiddleware(RequestDelegate next, IOptions<AuthOptions> options)
    {
        _next = next;
        _enabled = options.Value.AllowAnonymous;
        _roles = options.Value.EffectiveAnonymousRoles;
    }

    /// <remarks>
    /// Not async when there is nothing to do: an awaiting middleware keeps its state machine for as long as the request
    /// runs, which for a WebSocket connection is its whole life.
    /// </remarks>
    public Task InvokeAsync(HttpContext context) =>
        _enabled && context.User.Identity?.IsAuthenticated != true ? AuthenticateOrAnonymousAsync(context) : _next(context);

    private async Task AuthenticateOrAnonymousAsync(HttpContext context)
    {
        // The authentication middleware keeps only a success; asking again returns the handler's cached result,
        // which tells "no token" (None) from "a token that failed" (Failure).
        if ((await context.AuthenticateAsync()).None)
        {
            context.User = CreatePrincipal(_roles);
        }

        await _next(context);
    }

    public static ClaimsPrincipal CreatePrincipal(IReadOnlyList<string> roles)
    {
        var claims = roles.Select(role => new Claim(GatewayClaimTypes.Role, role)).Prepend(new Claim(GatewayClaimTypes.UserId, UserId));
        return new ClaimsPrincipal(new ClaimsIdentity(claims, AuthenticationType, GatewayClaimTypes.UserId, GatewayClaimTypes.Role));
    }
}
