using System.Reflection;
using Gateway.Contracts;
using Microsoft.AspNetCore.Http.Connections;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.Logging;

namespace Gateway.Client;

/// <summary>The wire format of hub messages.</summary>
public enum GatewayProtocol
{
    /// <summary>SignalR's JSON protocol; works over every transport.</summary>
    Json,

    /// <summary>SignalR's MessagePack protocol; binary, so not over Server-Sent Events.</summary>
    MessagePack,
}

/// <summary>
/// How a <see cref="GatewayClient"/> reaches the gateway. Checked when the client is constructed: a bad value throws an
/// <see cref="ArgumentException"/> naming the property and an example of a good one.
/// </summary>
public sealed class GatewayClientOptions
{
    /// <summary>The longest client id the gateway accepts.</summary>
    public const int MaxClientIdLength = 128;

    /// <summary>
    /// The gateway's base address (e.g. <c>http://127.0.0.1:5080</c>); <see cref="GatewayRoutes.Hub"/> is appended
    /// unless the path already ends with it. http or https only (SignalR switches to ws/wss for WebSockets).
    /// </summary>
    public required Uri Url { get; init; }

    /// <summary>
    /// Asked for a bearer token before every connect and reconnect (so a refreshed token is picked up); null for none.
    /// Set this or <see cref="AccessToken"/>, not both. The token passed is the client's lifetime (cancelled on dispose).
    /// </summary>
    public Func<CancellationToken, ValueTask<string?>>? AccessTokenProvider { get; init; }

    /// <summary>A fixed bearer token; null for none (a gateway with <c>Auth:AllowAnonymous</c>).</summary>
    public string? AccessToken { get; init; }

    public GatewayProtocol Protocol { get; init; } = GatewayProtocol.Json;

    /// <summary>The transports SignalR may negotiate, best first (WebSockets, Server-Sent Events, Long Polling). Default: all.</summary>
    public HttpTransportType Transports { get; init; } =
        HttpTransportType.WebSockets | HttpTransportType.ServerSentEvents | HttpTransportType.LongPolling;

    /// <summary>
    /// Names this client across its reconnects and restarts (sent as the <c>clientId</c> query). Null: a GUID generated
    /// once per <see cref="GatewayClient"/> instance and reused for all its connections. At most 128 printable characters.
    /// </summary>
    public string? ClientId { get; init; }

    /// <summary>Recorded in the session's metadata (the <c>clientVersion</c> query). Null: this library's version.</summary>
    public string? ClientVersion { get; init; }

    /// <summary>
    /// How often to call <c>Heartbeat</c> while connected. Null (the default): the interval the gateway sends in
    /// <c>connection.established</c>. <see cref="Timeout.InfiniteTimeSpan"/> sends none (the gateway then reaps the
    /// session as stale unless other invocations keep it alive).
    /// </summary>
    public TimeSpan? HeartbeatInterval { get; init; }

    /// <summary>
    /// When to retry after a lost connection; null disables automatic reconnects. Default: <see cref="GatewayReconnectPolicy"/>
    /// (0.5 s, 1 s, 2 s, 4 s … with jitter, capped at 30 s, forever).
    /// </summary>
    public IRetryPolicy? ReconnectPolicy { get; init; } = new GatewayReconnectPolicy();

    /// <summary>How long <see cref="GatewayClient.StartAsync"/> may take, from the first request to <c>connection.established</c>.</summary>
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Logs of the client and of SignalR underneath; null for none.</summary>
    public ILoggerFactory? LoggerFactory { get; init; }

    internal static string DefaultClientVersion { get; } = ResolveLibraryVersion();

    /// <summary>Throws an <see cref="ArgumentException"/> for the first setting that cannot work.</summary>
    internal void Validate()
    {
        if (Url is null || !Url.IsAbsoluteUri || (Url.Scheme != Uri.UriSchemeHttp && Url.Scheme != Uri.UriSchemeHttps))
        {
            throw new ArgumentException(
                $"{nameof(Url)} must be an absolute http or https address of the gateway, e.g. http://127.0.0.1:5080 (was '{Url}')", nameof(Url));
        }

        if (HasQueryParameter(Url, GatewayRoutes.ClientIdQuery) || HasQueryParameter(Url, GatewayRoutes.ClientVersionQuery))
        {
            throw new ArgumentException(
                $"{nameof(Url)} must not carry {GatewayRoutes.ClientIdQuery} or {GatewayRoutes.ClientVersionQuery}; set {nameof(ClientId)} and {nameof(ClientVersion)} instead",
                nameof(Url));
        }

        if (AccessTokenProvider is not null && AccessToken is not null)
        {
            throw new ArgumentException(
                $"Set {nameof(AccessToken)} (a fixed token) or {nameof(AccessTokenProvider)} (asked before every connect), not both", nameof(AccessToken));
        }

        const HttpTransportType all = HttpTransportType.WebSockets | HttpTransportType.ServerSentEvents | HttpTransportType.LongPolling;
        if (Transports == HttpTransportType.None || (Transports & ~all) != 0)
        {
            throw new ArgumentException(
                $"{nameof(Transports)} must be a combination of WebSockets, ServerSentEvents and LongPolling, e.g. WebSockets | LongPolling (was {Transports})",
                nameof(Transports));
        }

        if (!Enum.IsDefined(Protocol))
        {
            throw new ArgumentException($"{nameof(Protocol)} must be Json or MessagePack (was {Protocol})", nameof(Protocol));
        }

        if (Protocol == GatewayProtocol.MessagePack && (Transports & ~HttpTransportType.ServerSentEvents) == HttpTransportType.None)
        {
            throw new ArgumentException(
                $"{nameof(GatewayProtocol.MessagePack)} is binary and Server-Sent Events carry text only: add WebSockets or LongPolling to {nameof(Transports)}, or use {nameof(GatewayProtocol.Json)}",
                nameof(Transports));
        }

        if (ClientId is not null && (ClientId.Length is 0 or > MaxClientIdLength || ClientId.Any(char.IsControl) || string.IsNullOrWhiteSpace(ClientId)))
        {
            throw new ArgumentException(
                $"{nameof(ClientId)} must be 1 to {MaxClientIdLength} printable characters, e.g. \"dashboard-1\", or null to generate one", nameof(ClientId));
        }

        if (ClientVersion is not null && (string.IsNullOrWhiteSpace(ClientVersion) || ClientVersion.Length > 256 || ClientVersion.Any(char.IsControl)))
        {
            throw new ArgumentException(
                $"{nameof(ClientVersion)} must be 1 to 256 printable characters, e.g. \"2.3.1\", or null for the library's version", nameof(ClientVersion));
        }

        if (HeartbeatInterval is { } heartbeat && heartbeat != Timeout.InfiniteTimeSpan
            && (heartbeat <= TimeSpan.Zero || heartbeat.TotalMilliseconds > uint.MaxValue - 1))
        {
            throw new ArgumentException(
                $"{nameof(HeartbeatInterval)} must be positive and at most 49 days, e.g. TimeSpan.FromSeconds(15), Timeout.InfiniteTimeSpan for none, or null for the gateway's (was {heartbeat})",
                nameof(HeartbeatInterval));
        }

        if (ConnectTimeout != Timeout.InfiniteTimeSpan && (ConnectTimeout <= TimeSpan.Zero || ConnectTimeout.TotalMilliseconds > int.MaxValue))
        {
            throw new ArgumentException(
                $"{nameof(ConnectTimeout)} must be positive, e.g. TimeSpan.FromSeconds(30), or Timeout.InfiniteTimeSpan (was {ConnectTimeout})", nameof(ConnectTimeout));
        }
    }

    /// <summary>The hub address with the client's id and version in the query.</summary>
    internal Uri HubUrl(string clientId)
    {
        var builder = new UriBuilder(Url);
        var path = builder.Path.TrimEnd('/');
        if (!path.EndsWith(GatewayRoutes.Hub, StringComparison.OrdinalIgnoreCase))
        {
            path += GatewayRoutes.Hub;
        }

        builder.Path = path;
        var query = builder.Query.TrimStart('?');
        var added = $"{GatewayRoutes.ClientIdQuery}={Uri.EscapeDataString(clientId)}"
            + $"&{GatewayRoutes.ClientVersionQuery}={Uri.EscapeDataString(ClientVersion ?? DefaultClientVersion)}";
        builder.Query = query.Length == 0 ? added : query + "&" + added;
        return builder.Uri;
    }

    private static bool HasQueryParameter(Uri url, string name) =>
        url.Query.TrimStart('?').Split('&').Any(pair => pair.Split('=')[0].Equals(name, StringComparison.OrdinalIgnoreCase));

    private static string ResolveLibraryVersion()
    {
        var assembly = typeof(GatewayClientOptions).Assembly;
        var informational = assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion;
        if (!string.IsNullOrEmpty(informational))
        {
            // "1.2.3+commit" -> "1.2.3": the build metadata is noise in a session's metadata.
            var plus = informational.IndexOf('+', StringComparison.Ordinal);
            return plus > 0 ? informational[..plus] : informational;
        }

        return assembly.GetName().Version?.ToString(3) ?? "0.0.0";
    }
}
