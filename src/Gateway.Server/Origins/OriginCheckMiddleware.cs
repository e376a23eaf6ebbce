using Gateway.Contracts;
using Gateway.Server.Api;
using Microsoft.Extensions.Options;

namespace Gateway.Server.Origins;

/// <summary>
/// Refuses, with 403 problem details, what a page of a foreign web origin asks: every request to a hub (negotiate,
/// WebSocket upgrade, SSE stream, long polls, sends) and every request elsewhere but GET and HEAD. CORS does not cover
/// WebSockets, and a simple cross-origin POST (text/plain, no token) needs no preflight: with Auth:AllowAnonymous it
/// would act as the anonymous user. Allowed: no <c>Origin</c> (clients other than browsers send none), the gateway's own
/// origin (scheme, host and port of the request) and <c>Cors:AllowedOrigins</c>. Reads elsewhere are left to CORS: a
/// foreign page cannot read the answer.
/// </summary>
internal sealed partial class OriginCheckMiddleware
{
    private static readonly PathString Hubs = "/hubs";

    private readonly RequestDelegate _next;
    private readonly IReadOnlySet<string> _allowed;
    private readonly IProblemDetailsService _problems;
    private readonly ILogger<OriginCheckMiddleware> _logger;

    public OriginCheckMiddleware(RequestDelegate next, IOptions<OriginOptions> options, IProblemDetailsService problems, ILogger<OriginCheckMiddleware> logger)
    {
        _next = next;
        _allowed = options.Value.Normalized;
        _problems = problems;
        _logger = logger;
    }

    /// <remarks>Not async when the request passes: an awaiting middleware keeps its state for a WebSocket's whole life.</remarks>
    public Task InvokeAsync(HttpContext context)
    {
        var request = context.Request;
        if (request.Headers.Origin.Count == 0
            || (!request.Path.StartsWithSegments(Hubs) && (HttpMethods.IsGet(request.Method) || HttpMethods.IsHead(request.Method))))
        {
            return _next(context);
        }

        var origin = request.Headers.Origin.ToString();
        return IsAllowed(request, origin) ? _next(context) : RefuseAsync(context, origin);
    }

    private bool IsAllowed(HttpRequest request, string origin) =>
        OriginOptions.TryNormalize(origin, out var normalized)
        && (_allowed.Contains(normalized)
            || (OriginOptions.TryNormalize($"{request.Scheme}://{request.Host.Value}", out var own) && string.Equals(normalized, own, StringComparison.OrdinalIgnoreCase)));

    private async Task RefuseAsync(HttpContext context, string origin)
    {
        var shown = origin.Length > 200 ? origin[..200] : origin;
        LogRefused(shown, context.Request.Path);
        await ProblemResponses.WriteAsync(_problems, context, StatusCodes.Status403Forbidden, "Forbidden", HubErrorCodes.Forbidden,
            $"Pages of the origin '{shown}' may not use this gateway: only its own origin and Cors:AllowedOrigins may.");
    }

    [LoggerMessage(EventId = 2101, Level = LogLevel.Debug, Message = "Refused a request of a page of the origin {Origin} to {Path}")]
    private partial void LogRefused(string origin, PathString path);
}
