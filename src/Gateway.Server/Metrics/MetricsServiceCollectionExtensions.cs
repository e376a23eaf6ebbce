using Gateway.Contracts;
using OpenTelemetry.Metrics;

namespace Gateway.Server.Metrics;

public static class MetricsServiceCollectionExtensions
{
    /// <summary>OpenTelemetry metrics (the gateway's meter and ASP.NET Core's), exported for Prometheus.</summary>
    public static IServiceCollection AddGatewayMetrics(this IServiceCollection services)
    {
        services.AddSingleton<GatewayMetrics>();
        services.AddOpenTelemetry().WithMetrics(metrics => metrics
            .AddMeter(GatewayMetrics.MeterName)
            .AddAspNetCoreInstrumentation()
            .AddPrometheusExporter());
        return services;
    }

    /// <summary><c>GET /metrics</c> in Prometheus' text format; admin role (a scraper sends a token like any client).</summary>
    public static WebApplication MapGatewayMetrics(this WebApplication app)
    {
        app.MapPrometheusScrapingEndpoint().RequireAuthorization(policy => policy.RequireRole(GatewayRoles.Admin));
        return app;
    }
}
