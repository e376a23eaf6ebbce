using Gateway.Contracts;
using Gateway.Server.Sessions;

namespace Gateway.Server.Api;

/// <summary><c>GET /api/realtime/stats</c>: this node's connections, sessions, heartbeat batching and message counts.</summary>
internal static class RealtimeStatsApi
{
    public static RouteHandlerBuilder MapRealtimeStatsApi(this IEndpointRouteBuilder endpoints) =>
        endpoints.MapGet("/api/realtime/stats", GetRealtimeStats)
            .WithTags("Realtime")
            .WithName(nameof(GetRealtimeStats))
            .RequireAuthorization(policy => policy.RequireRole(GatewayRoles.Admin));

    public static async Task<RealtimeStatsView> GetRealtimeStats(
        LiveConnections live, RealtimeStats stats, SessionAdministration administration, SessionManager sessions, CancellationToken cancellationToken)
    {
        var connections = live.All.ToList();
        var batches = stats.HeartbeatBatches;
        return new RealtimeStatsView(
            sessions.NodeId,
            new ConnectionCounts(
                connections.Count,
                connections.GroupBy(c => c.ConnectionType).ToDictionary(g => g.Key, g => g.Count()),
                connections.GroupBy(c => c.Protocol).ToDictionary(g => g.Key, g => g.Count())),
            await administration.CountActiveAsync(cancellationToken),
            new HeartbeatCounts(
                stats.HeartbeatsReceived,
                batches,
                stats.HeartbeatRowsWritten,
                stats.LargestHeartbeatBatch,
                batches == 0 ? 0 : (double)stats.HeartbeatRowsWritten / batches),
            stats.SessionWriteTransactions,
            new MessageCounts(stats.MessagesIn, stats.MessagesOut, stats.RateLimited));
    }
}

internal sealed record RealtimeStatsView(
    string NodeId, ConnectionCounts Connections, int SessionsActive, HeartbeatCounts Heartbeats, long SessionWriteTransactions, MessageCounts Messages);

internal sealed record ConnectionCounts(int Total, IReadOnlyDictionary<string, int> ByTransport, IReadOnlyDictionary<string, int> ByProtocol);

/// <summary>Heartbeats received, and how they were written: <c>Batches</c> transactions holding <c>RowsWritten</c> rows.</summary>
internal sealed record HeartbeatCounts(long Received, long Batches, long RowsWritten, long LargestBatch, double AverageBatch);

internal sealed record MessageCounts(long In, long Out, long RateLimited);
