using System.Collections.Concurrent;
using System.Globalization;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Security.Cryptography;
using System.Text;
using Gateway.Contracts;
using Gateway.Server.Tests.Sessions;
using Gateway.Testing;
using Microsoft.AspNetCore.SignalR.Client;
using Xunit.Abstractions;

namespace Gateway.Server.Tests.Events;

/// <summary>
/// A client that asks for the whole of a large log and then stops reading holds at most its byte budget of the
/// server's memory, measured on a real server process, and is closed as <c>fell_behind</c> once its replay has had no
/// room for the stall timeout; a client that reads gets every event of the same log, in order, through replay pages cut
/// by bytes.
/// </summary>
public sealed class EventMemoryBoundTests(ITestOutputHelper output)
{
    // 512 events of 128 KiB (ASCII): 64 MiB of payload, 128 MiB as .NET strings. Without byte bounds one replay page
    // (500 events) alone holds about that much, and the queue (10,000 events) takes the whole log.
    private const int EventCount = 512;
    private const int PayloadHexBytes = 131_072;
    private const long QueueBytes = 1024 * 1024;

    [Fact]
    public async Task A_client_that_stops_reading_during_a_large_replay_holds_at_most_its_budget_and_is_closed_to_resume_later()
    {
        using var database = new TemporarySqliteFile("large-log.db");
        await using (var connection = await database.OpenFullyMigratedAsync())
        await using (var seed = connection.CreateCommand())
        {
            seed.CommandText = $"""
                WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {EventCount})
                INSERT INTO gateway_events (event_type, priority, payload)
                SELECT 'task.progress', 0, '{"{"}"message":"' || hex(randomblob({PayloadHexBytes / 2})) || '"{"}"}' FROM n
                """;
            Assert.Equal(EventCount, await seed.ExecuteNonQueryAsync());
        }

        var environment = new Dictionary<string, string?>
        {
            ["DATABASE_URL"] = database.DatabaseUrl,
            ["Node__Id"] = "memory-node",
            ["Auth__SigningKey"] = GatewayTestServer.SigningKey,
            ["Events__QueueBytesPerConnection"] = QueueBytes.ToString(CultureInfo.InvariantCulture),
            ["Events__ReplayPageBytes"] = QueueBytes.ToString(CultureInfo.InvariantCulture),
            ["Events__ReplayStallTimeoutSeconds"] = "2",
        };
        await using var server = await GatewayServerProcess.StartAsync(database.Directory, environment);
        Assert.False(server.HasExited, server.Output);
        var token = GatewayTestServer.Token("viewer", GatewayRoles.Dashboard);

        // Warm the paths the stalled client takes (a connection, a replay of a few events) before the baseline.
        await using (var warm = await ConnectAsync(server.BaseAddress, token))
        {
            await warm.InvokeAsync<SubscriptionAck>(nameof(IEventSubscriptionHub.Subscribe), new SubscriptionRequest(SubscriptionScopes.All, AfterEventId: EventCount - 4))
                .WaitAsync(TestHubConnections.Timeout);
        }

        await Task.Delay(500);
        var baseline = ResidentBytes(server.Id);

        using var stalled = await OpenStalledSubscriberAsync(server.BaseAddress, token);
        var peak = baseline;
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (!ClosedAsFellBehind(database) && DateTime.UtcNow < deadline)
        {
            peak = Math.Max(peak, ResidentBytes(server.Id));
            await Task.Delay(25);
        }

        var growth = peak - baseline;
        output.WriteLine($"server resident memory: baseline {baseline / 1048576.0:F1} MiB, peak while stalled {peak / 1048576.0:F1} MiB, growth {growth / 1048576.0:F1} MiB for a log of {EventCount * (long)PayloadHexBytes / 1048576} MiB with a budget of {QueueBytes / 1048576} MiB");
        Assert.True(
            ClosedAsFellBehind(database),
            "the stalled subscriber was not closed as fell_behind: " + database.QueryString("SELECT is_active || ' ' || metadata FROM sessions WHERE client_id = 'stalled'") + "\n" + server.Output);
        Assert.Contains("(Stalled, ", server.Output, StringComparison.Ordinal);
        // The budget, one replay page and the socket and pipe buffers, with room for the collector's slack; without the
        // bounds the growth passes the log's 128 MiB as strings.
        Assert.True(growth < 64L * 1024 * 1024, $"the server grew by {growth / 1048576.0:F1} MiB while one client stalled");

        // Replay pages cut by bytes (here every 4 events) still deliver every event after a position, in order.
        const int Tail = 64;
        var received = new ConcurrentQueue<long>();
        await using var reader = await ConnectAsync(server.BaseAddress, token, e => received.Enqueue(e.Id));
        await reader.InvokeAsync<SubscriptionAck>(nameof(IEventSubscriptionHub.Subscribe), new SubscriptionRequest(SubscriptionScopes.All, AfterEventId: EventCount - Tail))
            .WaitAsync(TimeSpan.FromSeconds(60));
        await SessionRowTests.Eventually(() => received.Count >= Tail, TimeSpan.FromSeconds(60), $"the last {Tail} events");
        Assert.Equal(Enumerable.Range(EventCount - Tail + 1, Tail).Select(i => (long)i), received.ToArray());
    }

    private static bool ClosedAsFellBehind(TemporarySqliteFile database) => database.QueryLong(
        "SELECT COUNT(*) FROM sessions WHERE client_id = 'stalled' AND is_active = 0 AND json_extract(metadata, '$.closeReason') = 'fell_behind'") == 1;

    /// <summary>The process's resident set (VmRSS), in bytes.</summary>
    private static long ResidentBytes(int processId)
    {
        var line = File.ReadLines($"/proc/{processId}/status").First(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
        return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) * 1024;
    }

    private static async Task<HubConnection> ConnectAsync(Uri baseAddress, string token, Action<GatewayEvent>? onEvent = null)
    {
        var connection = new HubConnectionBuilder()
            .WithUrl(new Uri(baseAddress, GatewayRoutes.Hub), options => options.AccessTokenProvider = () => Task.FromResult<string?>(token))
            .Build();
        connection.On<GatewayEvent>(nameof(IGatewayClient.EventReceived), e => onEvent?.Invoke(e));
        await connection.StartAsync().WaitAsync(TestHubConnections.Timeout);
        return connection;
    }

    /// <summary>
    /// A WebSocket over a socket with a small receive buffer that sends SignalR's handshake and a Subscribe to the whole
    /// log, and never reads: as a client whose process hangs.
    /// </summary>
    private static async Task<TcpClient> OpenStalledSubscriberAsync(Uri baseAddress, string token)
    {
        var tcp = new TcpClient { ReceiveBufferSize = 4096, NoDelay = true };
        await tcp.ConnectAsync(baseAddress.Host, baseAddress.Port);
        var stream = tcp.GetStream();
        var key = Convert.ToBase64String(RandomNumberGenerator.GetBytes(16));
        var upgrade = $"GET {GatewayRoutes.Hub}?{GatewayRoutes.ClientIdQuery}=stalled&access_token={token} HTTP/1.1\r\n"
            + $"Host: {baseAddress.Authority}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n";
        await stream.WriteAsync(Encoding.ASCII.GetBytes(upgrade));
        var head = new StringBuilder();
        var one = new byte[1];
        while (!head.ToString().EndsWith("\r\n\r\n", StringComparison.Ordinal))
        {
            Assert.Equal(1, await stream.ReadAsync(one).AsTask().WaitAsync(TestHubConnections.Timeout));
            head.Append((char)one[0]);
        }

        Assert.StartsWith("HTTP/1.1 101", head.ToString(), StringComparison.Ordinal);
        var socket = WebSocket.CreateFromStream(stream, new WebSocketCreationOptions { IsServer = false, KeepAliveInterval = TimeSpan.Zero });
        foreach (var message in new[]
        {
            """{"protocol":"json","version":1}""",
            """{"type":1,"invocationId":"1","target":"Subscribe","arguments":[{"scope":"all","afterEventId":0,"subscriptionId":"all"}]}""",
        })
        {
            await socket.SendAsync(Encoding.UTF8.GetBytes(message + "\u001e"), WebSocketMessageType.Text, endOfMessage: true, CancellationToken.None);
        }

        return tcp;
    }
}
