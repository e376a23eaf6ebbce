using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using Gateway.Contracts;
using Gateway.Testing;

namespace Gateway.Client.Tests;

/// <summary>
/// The client's promise: a subscriber sees every event exactly once, in id order, across a transport cut while changes
/// keep coming, and across a restart of the whole server.
/// </summary>
public sealed class ResumeTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    private static GatewayClient Client(Uri url, GatewayProtocol protocol) => new(new GatewayClientOptions
    {
        Url = url,
        AccessToken = GatewayTestServer.Token("viewer", GatewayRoles.Dashboard),
        Protocol = protocol,
        ReconnectPolicy = new GatewayReconnectPolicy { InitialDelay = TimeSpan.FromMilliseconds(100), MaxDelay = TimeSpan.FromMilliseconds(500) },
    });

    /// <summary>Creates tasks and moves them to running, until stopped (a started pair of requests always finishes).</summary>
    private static async Task WriteUntilAsync(GatewayTestServer server, CancellationToken stop)
    {
        using var agent = server.CreateHttpClient(GatewayTestServer.Token("agent", GatewayRoles.Agent));
        while (!stop.IsCancellationRequested)
        {
            using var created = await agent.PostAsJsonAsync(new Uri("/api/tasks", UriKind.Relative), new { title = "t", taskType = "x" }, CancellationToken.None);
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
            var id = (await created.Content.ReadFromJsonAsync<System.Text.Json.JsonElement>(CancellationToken.None)).GetProperty("id").GetString();
            using var running = await agent.PostAsJsonAsync(new Uri($"/api/tasks/{id}/status", UriKind.Relative), new { status = "running" }, CancellationToken.None);
            Assert.Equal(HttpStatusCode.OK, running.StatusCode);
        }
    }

    private static async Task WaitForAsync(ConcurrentQueue<GatewayEvent> received, long lastId)
    {
        var deadline = DateTime.UtcNow + Timeout;
        while (received.LastOrDefault()?.Id < lastId || received.IsEmpty)
        {
            Assert.True(DateTime.UtcNow < deadline, $"waited for event {lastId}; last received {received.LastOrDefault()?.Id}");
            await Task.Delay(25);
        }
    }

    private static long[] LoggedIds(TemporarySqliteFile database) => database.QueryLongs("SELECT id FROM gateway_events ORDER BY id");

    [Theory]
    [InlineData(GatewayProtocol.Json)]
    [InlineData(GatewayProtocol.MessagePack)]
    public async Task A_transport_cut_mid_stream_loses_and_repeats_nothing(GatewayProtocol protocol)
    {
        using var server = new GatewayTestServer();
        await using var proxy = new LoopbackProxy(server.BaseAddress);
        await using var client = Client(proxy.Address, protocol);
        var received = new ConcurrentQueue<GatewayEvent>();
        var reconnected = new TaskCompletionSource();
        client.Reconnected += _ =>
        {
            reconnected.TrySetResult();
            return Task.CompletedTask;
        };
        await client.StartAsync().WaitAsync(Timeout);
        await client.SubscribeAsync(new SubscriptionRequest(SubscriptionScopes.All), e =>
        {
            received.Enqueue(e);
            return Task.CompletedTask;
        }).WaitAsync(Timeout);

        using var stop = new CancellationTokenSource();
        var writer = WriteUntilAsync(server, stop.Token);
        await WaitForAsync(received, 10);
        Assert.True(proxy.DropAll() > 0);
        await reconnected.Task.WaitAsync(Timeout);
        await Task.Delay(300);
        await stop.CancelAsync();
        await writer;

        var logged = LoggedIds(server.Database);
        await WaitForAsync(received, logged[^1]);
        Assert.Equal(logged, received.Select(e => e.Id).ToArray());
    }

    [Fact]
    public async Task A_restart_of_the_whole_server_loses_and_repeats_nothing()
    {
        using var database = new TemporarySqliteFile("resume.db");
        var first = new GatewayTestServer(database: database, nodeId: "node-1");
        await using var proxy = new LoopbackProxy(first.BaseAddress);
        await using var client = Client(proxy.Address, GatewayProtocol.MessagePack);
        var received = new ConcurrentQueue<GatewayEvent>();
        var reconnected = new TaskCompletionSource();
        client.Reconnected += _ =>
        {
            reconnected.TrySetResult();
            return Task.CompletedTask;
        };
        await client.StartAsync().WaitAsync(Timeout);
        await client.SubscribeAsync(new SubscriptionRequest(SubscriptionScopes.All), e =>
        {
            received.Enqueue(e);
            return Task.CompletedTask;
        }).WaitAsync(Timeout);

        using (var stop = new CancellationTokenSource())
        {
            var writer = WriteUntilAsync(first, stop.Token);
            await WaitForAsync(received, 6);
            await stop.CancelAsync();
            await writer;
        }

        // Changes made while the client is cut off and the server is down in between must reach it too.
        first.Dispose();
        using var second = new GatewayTestServer(database: database, nodeId: "node-1");
        using (var stop = new CancellationTokenSource())
        {
            var writer = WriteUntilAsync(second, stop.Token);
            await Task.Delay(300);
            proxy.Target = second.BaseAddress;
            await reconnected.Task.WaitAsync(Timeout);
            await Task.Delay(300);
            await stop.CancelAsync();
            await writer;
        }

        var logged = LoggedIds(database);
        await WaitForAsync(received, logged[^1]);
        Assert.Equal(logged, received.Select(e => e.Id).ToArray());
    }
}
