using System.Globalization;
using System.Threading.RateLimiting;
using Gateway.Contracts;
using Gateway.Server.Api;
using Microsoft.AspNetCore.RateLimiting;

namespace Gateway.Server.RateLimiting;

/// <summary>The answer to a request over its bucket: 429 problem details, code <c>rate_limited</c>, <c>Retry-After</c> in whole seconds.</summary>
internal sealed partial class RateLimitRejections(IProblemDetailsService problems, ILogger<RateLimitRejections> logger)
{
    /// <summary>
    /// The partitioned limiter refills its buckets from a 100 ms timer, so a token is due up to one tick after the
    /// bucket's own estimate: Retry-After is a promise, a client that waits it out must get through.
    /// </summary>
    private static readonly TimeSpan RefillTick = TimeSpan.FromMilliseconds(150);

    public async ValueTask WriteAsync(OnRejectedContext rejected)
    {
        var http = rejected.HttpContext;
        var seconds = rejected.Lease.TryGetMetadata(MetadataName.RetryAfter, out var retryAfter)
            ? Math.Max(1, (int)Math.Ceiling((retryAfter + RefillTick).TotalSeconds))
            : 1;
        var kind = RequestPartitions.KindOf(http);
        http.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
        LogRejected(kind, seconds);

        var detail = kind switch
        {
            RequestKind.Connect => $"Too many connection attempts from this address (RateLimits:ConnectsPerSecond); retry in {seconds} s.",
            RequestKind.Read => $"Too many reads by this user (RateLimits:ReadsPerSecond); retry in {seconds} s.",
            _ => $"Too many changes by this user (RateLimits:WritesPerSecond); retry in {seconds} s.",
        };
        await ProblemResponses.WriteAsync(problems, http, StatusCodes.Status429TooManyRequests, "Too many requests", HubErrorCodes.RateLimited, detail);
    }

    [LoggerMessage(EventId = 6001, Level = LogLevel.Debug, Message = "Rate limited a request ({Kind}); retry after {Seconds} s")]
    private partial void LogRejected(RequestKind kind, int seconds);
}
