using Gateway.Server.Events;
using Gateway.Server.Tests.Events;
using Gateway.Server.Tests.Sessions;
using Gateway.Testing;
using Microsoft.AspNetCore.Http.Connections;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Gateway.Server.Tests.Cluster;

/// <summary>
/// Nodes on PostgreSQL learn of each other's commits by notification (LISTEN/NOTIFY), not by waiting for the poll: the
/// poll is set to a minute here, so anything delivered sooner came by notification.
/// </summary>
public sealed class PostgresWakeUpTests
{
    private static readonly Dictionary<string, string?> Settings = new()
    {
        ["RateLimits:WritesPerSecond"] = "0",
        ["Events:PostgresPollIntervalMilliseconds"] = "60000",
    };

    private static EventLogFollower FollowerOf(GatewayTestServer node) =>
        node.Services.GetServices<IHostedService>().OfType<EventLogFollower>().Single();

    [Fact]
    public async Task Another_nodes_commits_reach_a_subscriber_at_once_by_notification()
    {
        await using var database = await TestPostgres.CreateMigratedDatabaseAsync("wakeup");
        using var a = new GatewayTestServer(Settings, database, "node-a");
        using var b = new GatewayTestServer(Settings, database, "node-b");
        _ = a.BaseAddress;
        _ = b.BaseAddress;
        await SessionRowTests.Eventually(() => FollowerOf(b).Listening, what: "node b listening");
        var (client, received) = await MultiNodeDeliveryTests.SubscribeAsync(b, HttpTransportType.WebSockets, messagePack: false);
        await using var _client = client;

        await MultiNodeDeliveryTests.WriteAsync(a, "agent-a", 5);

        var logged = database.QueryLongs("SELECT id FROM gateway_events ORDER BY id");
        await SessionRowTests.Eventually(() => received.Count >= logged.Length, TimeSpan.FromSeconds(10), $"all {logged.Length} events on node b, got {received.Count}");
        Assert.Equal(logged, received.ToArray());
    }

    [Fact]
    public async Task A_listener_whose_connection_is_ended_listens_again_and_its_node_misses_nothing()
    {
        await using var database = await TestPostgres.CreateMigratedDatabaseAsync("wakeup");
        using var a = new GatewayTestServer(Settings, database, "node-a");
        using var b = new GatewayTestServer(Settings, database, "node-b");
        _ = a.BaseAddress;
        _ = b.BaseAddress;
        await SessionRowTests.Eventually(() => FollowerOf(a).Listening && FollowerOf(b).Listening, what: "both nodes listening");
        var (client, received) = await MultiNodeDeliveryTests.SubscribeAsync(b, HttpTransportType.ServerSentEvents, messagePack: false);
        await using var _client = client;

        // Both listeners' connections ended by the server, as a restart or a network cut would; commits go on meanwhile.
        Assert.Equal(2, database.QueryLong("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = current_database() AND query LIKE 'LISTEN%'"));
        await MultiNodeDeliveryTests.WriteAsync(a, "agent-a", 5);

        await SessionRowTests.Eventually(() => FollowerOf(a).Listening && FollowerOf(b).Listening, TimeSpan.FromSeconds(10), "both nodes listening again");
        var logged = database.QueryLongs("SELECT id FROM gateway_events ORDER BY id");
        await SessionRowTests.Eventually(() => received.Count >= logged.Length, TimeSpan.FromSeconds(10), $"all {logged.Length} events on node b, got {received.Count}");
        Assert.Equal(logged, received.ToArray());
    }
}
