using System.Net;
using System.Net.Sockets;
using System.Threading.RateLimiting;
using Gateway.Server.Api;
using Gateway.Server.Auth;
using Microsoft.AspNetCore.Http.Connections;
using Microsoft.AspNetCore.SignalR;

namespace Gateway.Server.RateLimiting;

/// <summary>What a request is counted against.</summary>
internal enum RequestKind
{
    /// <summary>Nothing: long-polling polls, transport sends and closes, endpoints that opt out (health).</summary>
    Unlimited,

    /// <summary>A REST read (GET, HEAD, OPTIONS), per user.</summary>
    Read,

    /// <summary>A REST write (any other method), per user.</summary>
    Write,

    /// <summary>A hub negotiate or a request opening a WebSocket or SSE transport, per client address.</summary>
    Connect,
}

/// <summary>
/// The partition of each request for the global rate limiter: a token bucket per user for REST reads and for REST
/// writes, one per client address for connection attempts. Told from the endpoint routing chose, not from the path, so
/// a trailing slash or another casing is counted alike.
/// </summary>
internal sealed class RequestPartitions
{
    private static readonly RateLimitPartition<string> Unlimited = RateLimitPartition.GetNoLimiter(string.Empty);

    private readonly Func<string, RateLimiter>? _reads;
    private readonly Func<string, RateLimiter>? _writes;
    private readonly Func<string, RateLimiter>? _connects;

    public RequestPartitions(RateLimitOptions options)
    {
        _reads = Bucket(options.ReadsPerSecond, options.ReadBurst);
        _writes = Bucket(options.WritesPerSecond, options.WriteBurst);
        _connects = Bucket(options.ConnectsPerSecond, options.ConnectBurst);
    }

    public RateLimitPartition<string> For(HttpContext context) => KindOf(context) switch
    {
        RequestKind.Read => Partition(_reads, "read ", CallerOf(context)),
        RequestKind.Write => Partition(_writes, "write ", CallerOf(context)),
        RequestKind.Connect => Partition(_connects, "connect ", AddressOf(context)),
        _ => Unlimited,
    };

    public static RequestKind KindOf(HttpContext context)
    {
        var request = context.Request;
        var metadata = context.GetEndpoint()?.Metadata;
        if (metadata?.GetMetadata<HubMetadata>() is null)
        {
            return HttpMethods.IsGet(request.Method) || HttpMethods.IsHead(request.Method) || HttpMethods.IsOptions(request.Method)
                ? RequestKind.Read
                : RequestKind.Write;
        }

        // Each negotiate makes a connection id (state held until it connects or times out). A WebSocket upgrade or an
        // SSE stream opens a connection, with or without one: a WebSocket may skip negotiation. A long-polling client
        // polls the same URL over and over, and every transport posts its sends there: never counted, or long polling
        // would break; its connect is its negotiate, which long polling cannot skip.
        if (metadata.GetMetadata<NegotiateMetadata>() is not null)
        {
            return RequestKind.Connect;
        }

        return GatewayRequests.IsUpgrade(context)
            || (HttpMethods.IsGet(request.Method) && request.Headers.Accept.ToString().Contains("text/event-stream", StringComparison.OrdinalIgnoreCase))
            ? RequestKind.Connect
            : RequestKind.Unlimited;
    }

    /// <summary>
    /// The client's address: IPv4 as is, IPv6 by its /64 (one host's share; rotating addresses within it buys nothing).
    /// Behind a reverse proxy every client has the proxy's address unless forwarded headers are enabled.
    /// </summary>
    public static string AddressOf(HttpContext context)
    {
        var address = context.Connection.RemoteIpAddress;
        if (address is null)
        {
            return "unknown";
        }

        if (address.IsIPv4MappedToIPv6)
        {
            return address.MapToIPv4().ToString();
        }

        if (address.AddressFamily != AddressFamily.InterNetworkV6)
        {
            return address.ToString();
        }

        var bytes = address.GetAddressBytes();
        Array.Clear(bytes, 8, 8);
        return new IPAddress(bytes) + "/64";
    }

    /// <summary>The token's user, or the address for the few endpoints readable without a token (the OpenAPI document).</summary>
    private static string CallerOf(HttpContext context) =>
        context.User.FindFirst(GatewayClaimTypes.UserId)?.Value is { Length: > 0 } user ? "user " + user : "address " + AddressOf(context);

    private static RateLimitPartition<string> Partition(Func<string, RateLimiter>? bucket, string kind, string who) =>
        bucket is null ? Unlimited : RateLimitPartition.Get(kind + who, bucket);

    /// <summary>
    /// A factory of token buckets refilled once a second. Not replenishing by itself: the partitioned limiter refills
    /// its buckets from one timer (what <c>RateLimitPartition.GetTokenBucketLimiter</c> does, without a closure per request).
    /// </summary>
    private static Func<string, RateLimiter>? Bucket(int perSecond, int burst)
    {
        if (perSecond == 0)
        {
            return null;
        }

        var options = new TokenBucketRateLimiterOptions
        {
            TokenLimit = burst,
            TokensPerPeriod = perSecond,
            ReplenishmentPeriod = TimeSpan.FromSeconds(1),
            AutoReplenishment = false,
            QueueLimit = 0,
        };
        return _ => new TokenBucketRateLimiter(options);
    }
}
