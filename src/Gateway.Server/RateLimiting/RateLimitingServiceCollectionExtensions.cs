using System.Threading.RateLimiting;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Options;

namespace Gateway.Server.RateLimiting;

public static class RateLimitingServiceCollectionExtensions
{
    /// <summary>
    /// ASP.NET Core's rate limiter with one global partitioned limiter (<see cref="RequestPartitions"/>, sized by
    /// <see cref="RateLimitOptions"/>, validated at start): a refused request gets 429 problem details with code
    /// <c>rate_limited</c> and <c>Retry-After</c> in seconds (<see cref="RateLimitRejections"/>). Endpoints that must
    /// always answer opt out with <c>DisableRateLimiting()</c> (health).
    /// </summary>
    public static IServiceCollection AddGatewayRateLimits(this IServiceCollection services)
    {
        services.AddOptions<RateLimitOptions>().BindConfiguration(RateLimitOptions.SectionName).ValidateOnStart();
        services.AddSingleton<IValidateOptions<RateLimitOptions>, RateLimitOptionsValidator>();
        services.AddSingleton<RateLimitRejections>();
        services.AddRateLimiter(_ => { });
        services.AddOptions<RateLimiterOptions>().Configure<IOptions<RateLimitOptions>>((limiter, options) =>
        {
            limiter.GlobalLimiter = PartitionedRateLimiter.Create<HttpContext, string>(new RequestPartitions(options.Value).For);
            limiter.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
            limiter.OnRejected = (rejected, _) => rejected.HttpContext.RequestServices.GetRequiredService<RateLimitRejections>().WriteAsync(rejected);
        });
        return services;
    }

    /// <summary>
    /// Call after <c>UseGatewayAuth</c>: the buckets of REST requests are per user, and a request refused for its token
    /// (401, 403) is answered before it costs its caller anything.
    /// </summary>
    public static WebApplication UseGatewayRateLimits(this WebApplication app)
    {
        app.UseRateLimiter();
        return app;
    }
}
