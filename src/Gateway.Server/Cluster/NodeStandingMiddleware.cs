using Gateway.Contracts;
using Gateway.Server.Api;

namespace Gateway.Server.Cluster;

/// <summary>
/// Refuses new SignalR connections (a negotiate, or a connect that skips it) with 503 and Retry-After while this node
/// does not serve (<see cref="NodeStanding"/>). A balancer that retries a 503 on another node (cluster/haproxy.cfg)
/// sends the client on without it noticing; a client without one retries after the delay. Requests of connections
/// that already exist (a poll, a send) go on: they finish or are closed by the node.
/// </summary>
internal sealed class NodeStandingMiddleware(RequestDelegate next, NodeStanding standing, IProblemDetailsService problems)
{
    public Task InvokeAsync(HttpContext context)
    {
        if (standing.Refusal is not { } code || !IsNewConnection(context.Request))
        {
            return next(context);
        }

        context.Response.Headers.RetryAfter = "1";
        var detail = code == HubErrorCodes.ServerShutdown
            ? "this gateway node is shutting down; connect again (to another node)"
            : "this gateway node cannot reach its database; connect again (to another node)";
        return ProblemResponses.WriteAsync(problems, context, StatusCodes.Status503ServiceUnavailable, "Node not serving", code, detail);
    }

    private static bool IsNewConnection(HttpRequest request) =>
        request.Path.StartsWithSegments(GatewayRoutes.Hub, StringComparison.OrdinalIgnoreCase, out var rest)
        && (rest.Equals("/negotiate", StringComparison.OrdinalIgnoreCase) || (!rest.HasValue && !request.Query.ContainsKey("id")));
}
