using Gateway.Contracts;
using Gateway.Server.Cluster;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Gateway.Server.Api;

/// <summary>Admin REST over the node registry: <c>GET /api/nodes</c>, the nodes sharing this database.</summary>
internal static class NodesApi
{
    public static RouteGroupBuilder MapNodesApi(this IEndpointRouteBuilder endpoints)
    {
        var group = endpoints.MapGroup("/api/nodes")
            .WithTags("Nodes")
            .RequireAuthorization(policy => policy.RequireRole(GatewayRoles.Admin));
        group.MapGet("/", ListNodes).WithName(nameof(ListNodes));
        return group;
    }

    public static async Task<Ok<List<NodeStatus>>> ListNodes(NodeRegistry registry, CancellationToken cancellationToken) =>
        TypedResults.Ok(await registry.ListAsync(cancellationToken));
}
