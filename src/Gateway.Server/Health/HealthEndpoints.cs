using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Gateway.Server.Health;

public static class HealthEndpoints
{
    private const string ReadyTag = "ready";

    public static IServiceCollection AddGatewayHealth(this IServiceCollection services)
    {
        services.AddHealthChecks().AddCheck<MigrationsHealthCheck>("database", tags: [ReadyTag]);
        return services;
    }

    /// <summary>
    /// /health/live: the process answers. /health/ready: the database answers and its schema is current.
    /// Both without a token (probes carry none): they opt out of the gateway's fallback authorization policy, and of
    /// the rate limits (a probe refused with 429 would take a healthy node out of rotation).
    /// </summary>
    public static IEndpointRouteBuilder MapGatewayHealth(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapHealthChecks("/health/live", new HealthCheckOptions { Predicate = _ => false }).AllowAnonymous().DisableRateLimiting();
        endpoints.MapHealthChecks("/health/ready", new HealthCheckOptions { Predicate = check => check.Tags.Contains(ReadyTag) }).AllowAnonymous().DisableRateLimiting();
        return endpoints;
    }
}
