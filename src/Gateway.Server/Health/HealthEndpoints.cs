using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Gateway.Server.Health;

public static class HealthEndpoints
{
    private const string ReadyTag = "ready";

    public static IServiceCollection AddGatewayHealth(this IServiceCollection services)
    {
        // Bounded: a database that does not answer (a cut network drops packets) fails the probe in time rather than
        // hanging it past the balancer's check timeout.
        var timeout = TimeSpan.FromSeconds(3);
        services.AddHealthChecks()
            .AddCheck<MigrationsHealthCheck>("database", tags: [ReadyTag], timeout: timeout)
            .AddCheck<StorageHealthCheck>("storage", tags: [ReadyTag], timeout: timeout)
            .AddCheck<NodeHealthCheck>("node", tags: [ReadyTag], timeout: timeout);
        return services;
    }

    /// <summary>
    /// /health/live: the process answers. /health/ready: the database answers, its schema is current, writes reach it,
    /// and this node is registered and serving (not stopping, not cut off from the database).
    /// Both without a token (probes carry none): they opt out of the gateway's fallback authorization policy, and of
    /// the rate limits (a probe refused with 429 would take a healthy node out of rotation).
    /// </summary>
    public static IEndpointRouteBuilder MapGatewayHealth(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapHealthChecks("/health/live", new HealthCheckOptions { Predicate = _ => false }).AllowAnonymous().DisableRateLimiting();
        endpoints.MapHealthChecks("/health/ready", new HealthCheckOptions { Predicate = check => check.Tags.Contains(ReadyTag), ResponseWriter = WriteReportAsync })
            .AllowAnonymous()
            .DisableRateLimiting();
        return endpoints;
    }

    /// <summary>
    /// <c>{"status":"Unhealthy","checks":{"storage":{"status":"Unhealthy","description":"storage_full since ..."}}}</c>: a probe
    /// needs only the status code, an operator wants to know why. Descriptions never hold secrets.
    /// </summary>
    private static Task WriteReportAsync(HttpContext context, HealthReport report)
    {
        context.Response.ContentType = "application/json; charset=utf-8";
        var checks = report.Entries.ToDictionary(
            entry => entry.Key,
            entry => new { status = entry.Value.Status.ToString(), description = entry.Value.Description });
        return context.Response.WriteAsJsonAsync(new { status = report.Status.ToString(), checks });
    }
}
