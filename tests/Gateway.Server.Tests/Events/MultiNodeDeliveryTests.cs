using System.Collections.Concurrent;
using Gateway.Contracts;
using Gateway.Server.Tests.Orchestration;
using Gateway.Server.Tests.Sessions;
using Gateway.Testing;
using Microsoft.AspNetCore.Http.Connections;
using Microsoft.AspNetCore.SignalR.Client;

namespace Gateway.Server.Tests.Events;

/// <summary>
/// Several nodes on one database: every subscriber gets every committed event once, in id order, whichever node
/// committed it, and a client resumes on another node after its last id without a gap or a reset.
/// </summary>
[Trait(TestProviders.Trait, TestProviders.Both)]
public sealed class MultiNodeDeliveryTests
{
    private static readonly Dictionary<string, string?> Settings = new() { ["RateLimits:WritesPerSecond"] = "0" };

    internal static async Task<(TestHubClient Client, ConcurrentQueue<long> Received)> SubscribeAsync(
        GatewayTestServer node, HttpTransportType transport, bool messagePack, long? afterEventId = null)
    {
        var received = new ConcurrentQueue<long>();
        var client = node.CreateClient(GatewayTestServer.Token("viewer", GatewayRoles.Dashboard), transport, messagePack);
        client.Connection.On<GatewayEvent>(nameof(IGatewayClient.EventReceived), e => received.Enqueue(e.Id));
        await client.StartAsync();
        var ack = await client.Connection.InvokeAsync<SubscriptionAck>(
            nameof(IEventSubscriptionHub.Subscribe), new SubscriptionRequest(SubscriptionScopes.All, AfterEventId: afterEventId));
        Assert.False(ack.Reset);
        return (client, received);
    }

    internal static async Task WriteAsync(GatewayTestServer node, string agent, int tasks)
    {
        var client = node.As(agent, GatewayRoles.Agent);
        for (var i = 0; i < tasks; i++)
        {
            var id = (await TasksApiTests.CreateAsync(client, $"{agent} {i}")).GetProperty("id").GetString()!;
            (await TasksApiTests.ChangeStatusAsync(client, id, new { status = "running" })).EnsureSuccessStatusCode();
        }
    }

    [Fact]
    public async Task Every_subscriber_gets_every_event_once_in_id_order_whichever_node_committed_it()
    {
        using var database = TestDatabases.Create("cluster.db");
        using var a = new GatewayTestServer(Settings, database, "node-a");
        _ = a.BaseAddress;
        using var b = new GatewayTestServer(Settings, database, "node-b");
        using var c = new GatewayTestServer(Settings, database, "node-c");
        var subscribers = new[]
        {
            await SubscribeAsync(a, HttpTransportType.WebSockets, messagePack: false),
            await SubscribeAsync(b, HttpTransportType.ServerSentEvents, messagePack: false),
            await SubscribeAsync(c, HttpTransportType.LongPolling, messagePack: true),
            await SubscribeAsync(c, HttpTransportType.WebSockets, messagePack: true),
        };

        await Task.WhenAll(WriteAsync(a, "agent-a", 15), WriteAsync(b, "agent-b", 15), WriteAsync(c, "agent-c", 15));

        var logged = database.QueryLongs("SELECT id FROM gateway_events ORDER BY id");
        Assert.Equal(90, logged.Length);
        foreach (var (client, received) in subscribers)
        {
            await SessionRowTests.Eventually(() => received.Count >= logged.Length, TimeSpan.FromSeconds(20), $"all {logged.Length} events, got {received.Count}");
            Assert.Equal(logged, received.ToArray());
            await client.DisposeAsync();
        }
    }

    [Fact]
    public async Task A_client_that_moves_to_another_node_resumes_after_its_last_id_without_a_gap()
    {
        using var database = TestDatabases.Create("cluster.db");
        using var a = new GatewayTestServer(Settings, database, "node-a");
        _ = a.BaseAddress;
        using var b = new GatewayTestServer(Settings, database, "node-b");
        var (first, before) = await SubscribeAsync(a, HttpTransportType.WebSockets, messagePack: false);
        await Task.WhenAll(WriteAsync(a, "agent-a", 5), WriteAsync(b, "agent-b", 5));
        await SessionRowTests.Eventually(() => before.Count >= 20, what: "the first 20 events on node a");
        await first.DisposeAsync();

        // Written while the client is away.
        await WriteAsync(b, "agent-b", 3);
        await WriteAsync(a, "agent-a", 3);
        var last = before.ToArray()[^1];
        var (second, after) = await SubscribeAsync(b, HttpTransportType.WebSockets, messagePack: true, afterEventId: last);
        await WriteAsync(a, "agent-a", 2);

        var logged = database.QueryLongs("SELECT id FROM gateway_events ORDER BY id");
        await SessionRowTests.Eventually(() => before.Count + after.Count >= logged.Length, what: $"all {logged.Length} events across both nodes");
        Assert.Equal(logged, before.Concat(after).ToArray());
        await second.DisposeAsync();

        // A position node a handed out a moment ago, which node b may not have published yet, is not taken for a
        // position from another database.
        await WriteAsync(a, "agent-a", 1);
        var head = database.QueryLong("SELECT MAX(id) FROM gateway_events");
        var (third, _) = await SubscribeAsync(b, HttpTransportType.WebSockets, messagePack: false, afterEventId: head);
        await third.DisposeAsync();
    }
}
