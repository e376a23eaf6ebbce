using System.Collections.Concurrent;
using System.Globalization;
using System.Net.Http.Json;
using Gateway.Contracts;
using Gateway.Server.Tests.Orchestration;
using Gateway.Server.Tests.Sessions;
using Gateway.Testing;
using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Gateway.Server.Tests.Events;

/// <summary>
/// A subscriber that stops reading: its events back up into its own queue, bounded in events and in bytes, and it is closed with
/// <c>fell_behind</c>; the other subscribers get every event, in order, meanwhile; what it did get is a gap-free prefix
/// of the log (so it resumes from its last id and misses nothing).
/// </summary>
public sealed class EventBackpressureTests : IDisposable
{
    // Small, so the stalled connection overflows soon after its socket buffers and pipes are full; large enough for the
    // reading connection to absorb a few bursts of 16 while the machine is busy (at 8 a loaded CI machine once let the
    // reading client fall behind as well). The byte bound holds about as many 2 KB progress events (4.3 KB each by
    // its estimate), with a count bound it never reaches.
    private const int QueueCapacity = 64;
    private const int QueueBytes = 256 * 1024;

    private readonly CapturingLoggerProvider _logs = new();
    private GatewayTestServer? _server;

    public void Dispose() => _server?.Dispose();

    [Theory]
    [InlineData("Events")]
    [InlineData("Bytes")]
    public async Task A_subscriber_that_stops_reading_is_closed_as_fell_behind_and_the_others_get_every_event_in_order(string bound)
    {
        _server = new GatewayTestServer(
            new Dictionary<string, string?>
            {
                ["Events:QueueCapacityPerConnection"] = bound == "Events" ? QueueCapacity.ToString(CultureInfo.InvariantCulture) : "10000",
                ["Events:QueueBytesPerConnection"] = bound == "Bytes" ? QueueBytes.ToString(CultureInfo.InvariantCulture) : "16777216",
                // The agent posts progress as fast as it can, past its REST write bucket; the rate limits have tests of their own.
                ["RateLimits:WritesPerSecond"] = "0",
            },
            configureServices: services =>
            {
                services.AddSingleton<ILoggerProvider>(_logs);
                // A send buffer of 64 KB instead of the megabytes loopback autotuning grants: the stalled connection's
                // events back up into the gateway after hundreds of events, not thousands (the reader keeps up either way).
                services.Configure<SocketTransportOptions>(options => options.CreateBoundListenSocket = endpoint =>
                {
                    var socket = SocketTransportOptions.CreateDefaultBoundListenSocket(endpoint);
                    socket.SendBufferSize = 64 * 1024;
                    return socket;
                });
            });
        await using var proxy = new LoopbackProxy(_server.BaseAddress);
        var dashboardToken = GatewayTestServer.Token("viewer", GatewayRoles.Dashboard);
        await using var stalled = _server.CreateClient(dashboardToken, clientId: "stalled", through: proxy.Address);
        await using var reading = _server.CreateClient(dashboardToken, clientId: "reading");
        var stalledGot = new ConcurrentQueue<long>();
        var readingGot = new ConcurrentQueue<long>();
        stalled.Connection.On<GatewayEvent>(nameof(IGatewayClient.EventReceived), e => stalledGot.Enqueue(e.Id));
        reading.Connection.On<GatewayEvent>(nameof(IGatewayClient.EventReceived), e => readingGot.Enqueue(e.Id));
        await stalled.StartAsync();
        await reading.StartAsync();
        foreach (var client in new[] { stalled, reading })
        {
            await client.Connection.InvokeAsync<SubscriptionAck>(nameof(IEventSubscriptionHub.Subscribe), new SubscriptionRequest(SubscriptionScopes.All))
                .WaitAsync(TestHubConnections.Timeout);
        }

        var agent = _server.As("agent-1", GatewayRoles.Agent);
        var taskId = (await TasksApiTests.CreateAsync(agent)).GetProperty("id").GetString()!;
        (await TasksApiTests.ChangeStatusAsync(agent, taskId, new { status = "running" })).Dispose();
        await SessionRowTests.Eventually(() => stalledGot.Count == 2 && readingGot.Count == 2);

        proxy.StallTowardClients();
        // 2 KB progress messages, 16 at a time: enough to fill the stalled connection's socket buffers, SignalR's and
        // Kestrel's pipes (64 KB each) and its queue. The overflow aborts the connection; SignalR then gives the
        // blocked transport its close timeout (5 s) before the session is closed.
        var message = new string('x', 2_000);
        var posted = 0;
        while (!ClosedAsFellBehind() && posted < 2_400)
        {
            await Task.WhenAll(Enumerable.Range(0, 16).Select(async i =>
            {
                using var response = await agent.PostAsJsonAsync(new Uri($"/api/tasks/{taskId}/progress", UriKind.Relative), new { progress = i, message });
                response.EnsureSuccessStatusCode();
            }));
            posted += 16;
        }

        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (!ClosedAsFellBehind() && DateTime.UtcNow < deadline)
        {
            await Task.Delay(50);
        }

        Assert.True(
            ClosedAsFellBehind(),
            $"the stalled subscriber was not closed after {posted} events; it received {stalledGot.Count}; its row: "
            + _server.Database.QueryString("SELECT is_active || ' ' || metadata FROM sessions WHERE client_id = 'stalled'"));
        var logged = _server.Database.QueryLongs("SELECT id FROM gateway_events ORDER BY id");
        await SessionRowTests.Eventually(
            () => readingGot.Count >= logged.Length || !ReadingIsActive(), TimeSpan.FromSeconds(30), $"the reading subscriber getting all {logged.Length} events");
        Assert.True(
            ReadingIsActive(),
            $"the reading subscriber was closed after {readingGot.Count} of {logged.Length} events: "
            + _server.Database.QueryString("SELECT metadata FROM sessions WHERE client_id = 'reading'"));
        Assert.Equal(logged, readingGot.ToArray());

        proxy.ResumeTowardClients();
        await stalled.Closed;
        var prefix = stalledGot.ToArray();
        Assert.True(prefix.Length < logged.Length, "the stalled subscriber cannot have received everything");
        Assert.Equal(logged[..prefix.Length], prefix);
        Assert.Contains(_logs.Lines, line => line.Contains("[4101] Warning", StringComparison.Ordinal) && line.Contains($"({bound}, ", StringComparison.Ordinal));
    }

    private bool ReadingIsActive() =>
        _server!.Database.QueryLong("SELECT COUNT(*) FROM sessions WHERE client_id = 'reading' AND is_active = 1") == 1;

    private bool ClosedAsFellBehind() => _server!.Database.QueryLong(
        "SELECT COUNT(*) FROM sessions WHERE client_id = 'stalled' AND is_active = 0 AND json_extract(metadata, '$.closeReason') = 'fell_behind'") == 1;
}
