using Gateway.Server.Cluster;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Gateway.Server.Health;

/// <summary>Ready while this node holds its registry row, beats it, and is not stopping: a balancer takes it out otherwise.</summary>
internal sealed class NodeHealthCheck(NodeStanding standing, NodeRegistry registry) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(standing switch
        {
            { StoppingSince: { } since } => HealthCheckResult.Unhealthy($"node {registry.NodeId} stopping since {since:O}: its clients are sent to other nodes"),
            { CutOffSince: { } since } => HealthCheckResult.Unhealthy(
                $"node_unavailable since {since:O}: node {registry.NodeId} cannot reach the database (last beat {standing.LastBeat:O})"),
            { LastBeat: { } last } => HealthCheckResult.Healthy($"node {registry.NodeId} registered, last beat {last:O}"),
            _ => HealthCheckResult.Unhealthy($"node {registry.NodeId} not registered yet"),
        });
}
