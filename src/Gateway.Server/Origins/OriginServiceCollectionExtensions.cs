using Microsoft.AspNetCore.Cors.Infrastructure;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;

namespace Gateway.Server.Origins;

public static class OriginServiceCollectionExtensions
{
    /// <summary>
    /// Which web origins may use the gateway from a browser (<see cref="OriginOptions"/>, validated at start): CORS for
    /// them (credentials allowed, as the SignalR browser client sends them; Retry-After readable) and the
    /// <see cref="OriginCheckMiddleware"/> for everyone else.
    /// </summary>
    public static IServiceCollection AddGatewayOrigins(this IServiceCollection services)
    {
        services.AddOptions<OriginOptions>().BindConfiguration(OriginOptions.SectionName).ValidateOnStart();
        services.AddSingleton<IValidateOptions<OriginOptions>, OriginOptionsValidator>();
        services.AddCors();
        services.AddOptions<CorsOptions>().Configure<IOptions<OriginOptions>>((cors, origins) => cors.AddDefaultPolicy(policy => policy
            .WithOrigins([.. origins.Value.Normalized])
            .AllowAnyHeader()
            .AllowAnyMethod()
            .AllowCredentials()
            .WithExposedHeaders(HeaderNames.RetryAfter)));
        return services;
    }

    /// <summary>Call before <c>UseGatewayAuth</c>: a foreign page is refused whatever token it carries, and a preflight carries none.</summary>
    public static WebApplication UseGatewayOrigins(this WebApplication app)
    {
        app.UseMiddleware<OriginCheckMiddleware>();
        app.UseCors();
        return app;
    }
}
