using Gateway.Contracts;
using Gateway.Server.Tests.Sessions;
using Gateway.Testing;
using Microsoft.AspNetCore.SignalR.Client;

namespace Gateway.Server.Tests.Cluster;

/// <summary>
/// Real processes on one SQLite file: a node id is held by one live process at a time, and a node killed with SIGKILL
/// has its sessions closed by a live peer.
/// </summary>
public sealed class NodeIdentityTests
{
    private static Dictionary<string, string?> Environment(TemporarySqliteFile database, string nodeId) => new()
    {
        ["DATABASE_URL"] = database.DatabaseUrl,
        ["Node__Id"] = nodeId,
        ["Node__HeartbeatIntervalSeconds"] = "0.3",
        ["Node__LostAfterSeconds"] = "3",
        ["Auth__SigningKey"] = GatewayTestServer.SigningKey,
    };

    [Fact]
    public async Task A_second_live_process_with_the_same_node_id_is_refused_and_a_restart_after_kill_9_is_not()
    {
        using var database = new TemporarySqliteFile("cluster.db");
        await using var first = await GatewayServerProcess.StartAsync(database.Directory, Environment(database, "node-x"));
        Assert.False(first.HasExited, first.Output);

        await using var second = await GatewayServerProcess.StartAsync(database.Directory, Environment(database, "node-x"));
        var exitCode = await second.WaitForExitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(1, exitCode);
        Assert.Contains("node id node-x is held by a live process at http://127.0.0.1:", second.Output, StringComparison.Ordinal);
        Assert.Contains("started 20", second.Output, StringComparison.Ordinal);
        Assert.False(first.HasExited);
        Assert.Equal(1, database.QueryLong("SELECT count(*) FROM gateway_nodes WHERE id = 'node-x'"));

        // Killed, its row is fresh for up to Node:LostAfterSeconds; a restart sees it no longer beaten and takes it.
        var instance = database.QueryString("SELECT instance_id FROM gateway_nodes WHERE id = 'node-x'");
        await first.DisposeAsync();
        await using var third = await GatewayServerProcess.StartAsync(database.Directory, Environment(database, "node-x"));

        Assert.False(third.HasExited, third.Output);
        Assert.Contains("took over its registry row from an earlier run", third.Output, StringComparison.Ordinal);
        Assert.NotEqual(instance, database.QueryString("SELECT instance_id FROM gateway_nodes WHERE id = 'node-x'"));
    }

    [Fact]
    public async Task A_node_killed_with_sigkill_has_its_sessions_closed_as_node_lost_by_a_peer_that_tells_its_admins()
    {
        using var database = new TemporarySqliteFile("cluster.db");
        await using var doomed = await GatewayServerProcess.StartAsync(database.Directory, Environment(database, "node-doomed"));
        Assert.False(doomed.HasExited, doomed.Output);
        using var peer = new GatewayTestServer(
            new Dictionary<string, string?> { ["Node:HeartbeatIntervalSeconds"] = "0.3", ["Node:LostAfterSeconds"] = "3" }, database, "node-peer");
        await using var admin = peer.CreateClient(GatewayTestServer.Token("root", GatewayRoles.Admin));
        var closed = new TaskCompletionSource<SessionInfo>(TaskCreationOptions.RunContinuationsAsynchronously);
        admin.Connection.On<SessionInfo>(nameof(IGatewayClient.SessionClosed), s => closed.TrySetResult(s));
        await admin.StartAsync();
        await admin.Connection.InvokeAsync(nameof(IGatewayHub.SubscribeSessions));

        await using var client = new HubConnectionBuilder()
            .WithUrl(new Uri(doomed.BaseAddress, GatewayRoutes.Hub), options =>
                options.AccessTokenProvider = () => Task.FromResult<string?>(GatewayTestServer.Token("erin", GatewayRoles.Agent)))
            .Build();
        var established = new TaskCompletionSource<ConnectionEstablished>(TaskCreationOptions.RunContinuationsAsynchronously);
        client.On<ConnectionEstablished>(nameof(IGatewayClient.ConnectionEstablished), e => established.TrySetResult(e));
        await client.StartAsync().WaitAsync(TestHubConnections.Timeout);
        var sessionId = (await established.Task.WaitAsync(TestHubConnections.Timeout)).SessionId;

        await doomed.DisposeAsync();
        var killedAt = DateTime.UtcNow;
        var announced = await closed.Task.WaitAsync(TimeSpan.FromSeconds(15));
        var tookSeconds = (DateTime.UtcNow - killedAt).TotalSeconds;

        Assert.Equal(sessionId, announced.Id);
        Assert.Equal(Gateway.Server.Sessions.CloseReasons.NodeLost, database.QueryString($"SELECT json_extract(metadata, '$.closeReason') FROM sessions WHERE id = '{sessionId}'"));
        Assert.Equal(["node-peer"], database.QueryStrings("SELECT id FROM gateway_nodes"));
        // Lost after 3 s unbeaten, found at the peer's next beat: well before the 60 s stale timeout.
        Assert.InRange(tookSeconds, 2, 6);
    }

    [Fact]
    public async Task Subscribers_on_the_surviving_nodes_get_every_committed_event_once_in_order_across_a_sigkill_mid_stream()
    {
        using var database = new TemporarySqliteFile("cluster.db");
        await using var doomed = await GatewayServerProcess.StartAsync(
            database.Directory, new Dictionary<string, string?>(Environment(database, "node-doomed")) { ["RateLimits__WritesPerSecond"] = "0" });
        Assert.False(doomed.HasExited, doomed.Output);
        var settings = new Dictionary<string, string?> { ["RateLimits:WritesPerSecond"] = "0" };
        using var b = new GatewayTestServer(settings, database, "node-b");
        using var c = new GatewayTestServer(settings, database, "node-c");
        var received = new[] { new System.Collections.Concurrent.ConcurrentQueue<long>(), new System.Collections.Concurrent.ConcurrentQueue<long>() };
        var subscribers = new List<TestHubClient>();
        foreach (var (node, i) in new[] { (b, 0), (c, 1) })
        {
            var subscriber = node.CreateClient(GatewayTestServer.Token("viewer", GatewayRoles.Dashboard), messagePack: i == 1);
            var queue = received[i];
            subscriber.Connection.On<GatewayEvent>(nameof(IGatewayClient.EventReceived), e => queue.Enqueue(e.Id));
            await subscriber.StartAsync();
            await subscriber.Connection.InvokeAsync<SubscriptionAck>(nameof(IEventSubscriptionHub.Subscribe), new SubscriptionRequest(SubscriptionScopes.All));
            subscribers.Add(subscriber);
        }

        using var toDoomed = new HttpClient { BaseAddress = doomed.BaseAddress };
        toDoomed.DefaultRequestHeaders.Authorization = new("Bearer", GatewayTestServer.Token("agent-a", GatewayRoles.Agent));
        using var stop = new CancellationTokenSource();
        // Writes through the doomed node until its process is gone (a request cut by the kill may or may not have
        // committed: the log says which), and through node b throughout.
        var killed = false;
        var onDoomed = Task.Run(async () =>
        {
            while (true)
            {
                try
                {
                    await Orchestration.TasksApiTests.CreateAsync(toDoomed, "doomed");
                }
                catch (Exception) when (Volatile.Read(ref killed))
                {
                    return;
                }
            }
        });
        var onB = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                await Orchestration.TasksApiTests.CreateAsync(b.As("agent-b", GatewayRoles.Agent), "b");
            }
        });
        await SessionRowTests.Eventually(
            () => onDoomed.IsFaulted || database.QueryLong("SELECT count(*) FROM tasks WHERE title = 'doomed'") >= 30,
            TimeSpan.FromSeconds(30),
            "30 tasks written through the doomed node before the kill");
        Assert.False(onDoomed.IsFaulted, onDoomed.Exception?.ToString());
        Volatile.Write(ref killed, true);
        await doomed.DisposeAsync();
        await onDoomed;
        await Task.Delay(300);
        await stop.CancelAsync();
        await onB;

        var logged = database.QueryLongs("SELECT id FROM gateway_events ORDER BY id");
        foreach (var queue in received)
        {
            await SessionRowTests.Eventually(() => queue.Count >= logged.Length, TimeSpan.FromSeconds(20), $"all {logged.Length} events, got {queue.Count}");
            Assert.Equal(logged, queue.ToArray());
        }

        foreach (var subscriber in subscribers)
        {
            await subscriber.DisposeAsync();
        }
    }
}
