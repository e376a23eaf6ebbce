using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using Gateway.Contracts;
using Gateway.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Gateway.Client.Tests;

/// <summary>
/// The client's promise: a subscriber sees every event exactly once, in id order, across a transport cut while changes
/// keep coming, and across a restart of the whole server.
/// </summary>
public sealed class ResumeTests : IDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    // The client's and the servers' logs, printed when a wait fails: a lost resume is otherwise silent.
    private readonly CapturingLoggerProvider _logs = new();

    public void Dispose() => _logs.Dispose();

    private GatewayClient Client(Uri url, GatewayProtocol protocol) => new(new GatewayClientOptions
    {
        Url = url,
        LoggerFactory = LoggerFactory.Create(logging => logging.AddProvider(_logs).SetMinimumLevel(LogLevel.Debug)),
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

    private GatewayTestServer Server(TemporarySqliteFile? database = null, string? nodeId = null, FailingSubscribeFilter? filter = null) => new(
        // Writes as fast as the gateway takes them, past the REST write burst; the limits have tests of their own.
        new Dictionary<string, string?> { ["Logging:LogLevel:Gateway"] = "Debug", ["Logging:Console:LogLevel:Default"] = "Warning", ["RateLimits:WritesPerSecond"] = "0" },
        database,
        nodeId,
        services =>
        {
            services.AddSingleton<ILoggerProvider>(_logs);
            filter?.AddTo(services);
        });

    /// <summary>A log line without its structured values; with its exception when it has one.</summary>
    private static string Shorten(string line)
    {
        var parts = line.Split(" | ");
        return parts.Length > 2 && parts[^1].Length > 0 ? $"{parts[0]} | {parts[^1]}" : parts[0];
    }

    /// <summary>Waits until the follower has handed event <paramref name="lastId"/> (or a later one) to its handler.</summary>
    private Task WaitForAsync(Follower follower, long lastId) =>
        EventuallyAsync(
            () => follower.Received.LastOrDefault()?.Id >= lastId,
            () => $"event {lastId}; last received {follower.Received.LastOrDefault()?.Id}");

    private async Task EventuallyAsync(Func<bool> condition, Func<string> what)
    {
        var deadline = DateTime.UtcNow + Timeout;
        while (!condition())
        {
            Assert.True(
                DateTime.UtcNow < deadline,
                $"waited for {what()}; logs:\n" + string.Join('\n', _logs.Lines.Where(line => line.StartsWith("Gateway", StringComparison.Ordinal)).Select(Shorten)));
            await Task.Delay(25);
        }
    }

    /// <summary>A client through <paramref name="url"/> that follows every event, counting its reconnects.</summary>
    private async Task<Follower> FollowEverythingAsync(Uri url, GatewayProtocol protocol)
    {
        var follower = new Follower(Client(url, protocol));
        try
        {
            await follower.Client.StartAsync().WaitAsync(Timeout);
            await follower.Client.SubscribeAsync(new SubscriptionRequest(SubscriptionScopes.All), follower.OnEvent).WaitAsync(Timeout);
            return follower;
        }
        catch
        {
            await follower.DisposeAsync();
            throw;
        }
    }

    private static long[] LoggedIds(TemporarySqliteFile database) => database.QueryLongs("SELECT id FROM gateway_events ORDER BY id");

    [Theory]
    [InlineData(GatewayProtocol.Json)]
    [InlineData(GatewayProtocol.MessagePack)]
    public async Task A_transport_cut_mid_stream_loses_and_repeats_nothing(GatewayProtocol protocol)
    {
        using var server = Server();
        await using var proxy = new LoopbackProxy(server.BaseAddress);
        await using var follower = await FollowEverythingAsync(proxy.Address, protocol);

        using var stop = new CancellationTokenSource();
        var writer = WriteUntilAsync(server, stop.Token);
        await WaitForAsync(follower, 10);
        Assert.True(proxy.DropAll() > 0);
        await follower.FirstReconnect.WaitAsync(Timeout);
        await Task.Delay(300);
        await stop.CancelAsync();
        await writer;

        var logged = LoggedIds(server.Database);
        await WaitForAsync(follower, logged[^1]);
        Assert.Equal(logged, follower.Received.Select(e => e.Id).ToArray());
    }

    [Fact]
    public async Task A_restart_of_the_whole_server_loses_and_repeats_nothing()
    {
        using var database = new TemporarySqliteFile("resume.db");
        var first = Server(database, "node-1");
        await using var proxy = new LoopbackProxy(first.BaseAddress);
        await using var follower = await FollowEverythingAsync(proxy.Address, GatewayProtocol.MessagePack);

        using (var stop = new CancellationTokenSource())
        {
            var writer = WriteUntilAsync(first, stop.Token);
            await WaitForAsync(follower, 6);
            await stop.CancelAsync();
            await writer;
        }

        // Changes made while the client is cut off and the server is down in between must reach it too.
        first.Dispose();
        using var second = Server(database, "node-1");
        using (var stop = new CancellationTokenSource())
        {
            var writer = WriteUntilAsync(second, stop.Token);
            await Task.Delay(300);
            proxy.Target = second.BaseAddress;
            await follower.FirstReconnect.WaitAsync(Timeout);
            await Task.Delay(300);
            await stop.CancelAsync();
            await writer;
        }

        var logged = LoggedIds(database);
        await WaitForAsync(follower, logged[^1]);
        Assert.Equal(logged, follower.Received.Select(e => e.Id).ToArray());
    }

    [Fact]
    public async Task A_reconnect_to_a_gateway_on_another_database_resets_instead_of_replaying_that_logs_events_as_if_missed()
    {
        using var oldDatabase = new TemporarySqliteFile("old.db");
        using var first = Server(oldDatabase, "node-1");
        await using var proxy = new LoopbackProxy(first.BaseAddress);
        var follower = new Follower(Client(proxy.Address, GatewayProtocol.Json));
        await using var _ = follower;
        var resets = new ConcurrentQueue<SubscriptionAck>();
        await follower.Client.StartAsync().WaitAsync(Timeout);
        await follower.Client.SubscribeAsync(new SubscriptionRequest(SubscriptionScopes.All), follower.OnEvent, ack =>
        {
            resets.Enqueue(ack);
            return Task.CompletedTask;
        }).WaitAsync(Timeout);
        using (var stop = new CancellationTokenSource())
        {
            var writer = WriteUntilAsync(first, stop.Token);
            await WaitForAsync(follower, 4);
            await stop.CancelAsync();
            await writer;
        }

        await WaitForAsync(follower, LoggedIds(oldDatabase)[^1]);
        // Another database whose log is longer: the position the client holds is a valid id there too.
        using var newDatabase = new TemporarySqliteFile("new.db");
        using var second = Server(newDatabase, "node-2");
        using (var stop = new CancellationTokenSource())
        {
            var writer = WriteUntilAsync(second, stop.Token);
            await EventuallyAsync(() => LoggedIds(newDatabase).Length > LoggedIds(oldDatabase).Length + 4, () => "a longer log on the new database");
            await stop.CancelAsync();
            await writer;
        }

        var before = follower.Received.Count;
        proxy.Target = second.BaseAddress;
        proxy.DropAll();
        await follower.FirstReconnect.WaitAsync(Timeout);
        await EventuallyAsync(() => !resets.IsEmpty, () => "a reset");

        Assert.Equal(newDatabase.QueryString("SELECT epoch FROM gateway_log"), resets.Single().Epoch);
        Assert.Equal(LoggedIds(newDatabase)[^1], resets.Single().HeadEventId);
        Assert.Equal(before, follower.Received.Count);
    }

    [Fact]
    public async Task A_resubscribe_the_gateway_fails_is_retried_on_a_new_connection_and_loses_and_repeats_nothing()
    {
        var failing = new FailingSubscribeFilter();
        using var server = Server(filter: failing);
        await using var proxy = new LoopbackProxy(server.BaseAddress);
        await using var follower = await FollowEverythingAsync(proxy.Address, GatewayProtocol.MessagePack);

        using var stop = new CancellationTokenSource();
        var writer = WriteUntilAsync(server, stop.Token);
        await WaitForAsync(follower, 6);

        // The next Subscribe (the one after the cut) fails on the gateway while its connection stays up.
        failing.FailNext();
        Assert.True(proxy.DropAll() > 0);
        await EventuallyAsync(() => failing.Failed == 1 && follower.Reconnects == 1, () => "a failed resubscribe, then one Reconnected");
        await Task.Delay(300);
        await stop.CancelAsync();
        await writer;

        var logged = LoggedIds(server.Database);
        await WaitForAsync(follower, logged[^1]);
        Assert.Equal(logged, follower.Received.Select(e => e.Id).ToArray());
        Assert.Equal(1, failing.Failed);
        Assert.Equal(1, follower.Reconnects);
        Assert.Contains(_logs.Lines, line => line.StartsWith("Gateway.Client.GatewayClient[5012] Warning", StringComparison.Ordinal));
    }

    private sealed class Follower : IAsyncDisposable
    {
        private readonly TaskCompletionSource _reconnected = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int _reconnects;

        public Follower(GatewayClient client)
        {
            Client = client;
            client.Reconnected += _ =>
            {
                Interlocked.Increment(ref _reconnects);
                _reconnected.TrySetResult();
                return Task.CompletedTask;
            };
        }

        public GatewayClient Client { get; }

        public ConcurrentQueue<GatewayEvent> Received { get; } = new();

        public Task FirstReconnect => _reconnected.Task;

        public int Reconnects => Volatile.Read(ref _reconnects);

        public Task OnEvent(GatewayEvent e)
        {
            Received.Enqueue(e);
            return Task.CompletedTask;
        }

        public ValueTask DisposeAsync() => Client.DisposeAsync();
    }
}
