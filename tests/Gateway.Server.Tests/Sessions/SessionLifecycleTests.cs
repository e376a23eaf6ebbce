using System.Text.Json;
using Gateway.Contracts;
using Gateway.Testing;
using Microsoft.AspNetCore.Http.Connections;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Gateway.Server.Tests.Sessions;

/// <summary>Stale sessions are reaped; a node closes what a crash left open and what is open when it stops.</summary>
[Trait(TestProviders.Trait, TestProviders.Both)]
public sealed class SessionLifecycleTests
{
    private static Dictionary<string, string?> FastReaper() => new()
    {
        ["Sessions:StaleTimeoutSeconds"] = "2",
        ["Sessions:ReaperIntervalSeconds"] = "0.3",
        ["Sessions:HeartbeatIntervalSeconds"] = "1",
        ["Sessions:FlushIntervalSeconds"] = "0.2",
    };

    [Fact]
    public async Task A_silent_client_is_reaped_told_why_and_its_connection_aborted()
    {
        using var server = new GatewayTestServer(FastReaper());
        await using var silent = server.CreateClient(GatewayTestServer.Token("quiet", GatewayRoles.Agent));
        await using var beating = server.CreateClient(GatewayTestServer.Token("lively", GatewayRoles.Agent));
        var quiet = await silent.StartAsync();
        var lively = await beating.StartAsync();
        using var heartbeats = new CancellationTokenSource();
        var beatLoop = Task.Run(async () =>
        {
            while (!heartbeats.IsCancellationRequested)
            {
                await beating.Connection.InvokeAsync<HeartbeatReply>(nameof(IGatewayHub.Heartbeat));
                await Task.Delay(500);
            }
        });

        var notice = await silent.Closing;
        await silent.Closed;
        await heartbeats.CancelAsync();
        await beatLoop;

        Assert.Equal(HubErrorCodes.Stale, notice.Code);
        Assert.True(notice.Reconnect);
        Assert.Equal((0L, "stale"), SessionState(server.Store, quiet.SessionId));
        Assert.Equal(1L, SessionState(server.Store, lively.SessionId).IsActive);
        Assert.Equal(HubConnectionState.Connected, beating.Connection.State);
    }

    [Theory]
    [InlineData(HttpTransportType.WebSockets)]
    [InlineData(HttpTransportType.ServerSentEvents)]
    [InlineData(HttpTransportType.LongPolling)]
    public async Task Stopping_the_server_tells_clients_to_reconnect_elsewhere(HttpTransportType transport)
    {
        // The close grace is what gives SSE and long-polling clients time to read the notice; on a loaded machine
        // the default half second was seen to fall short once, so the test gives it room.
        var server = new GatewayTestServer(new Dictionary<string, string?> { ["Sessions:CloseGraceSeconds"] = "2" });
        await using var client = server.CreateClient(GatewayTestServer.Token("alice", GatewayRoles.Dashboard), transport);
        await client.StartAsync();

        var stopping = Task.Run(server.Dispose);
        var notice = await client.Closing;
        await stopping.WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(HubErrorCodes.ServerShutdown, notice.Code);
        Assert.True(notice.Reconnect);
    }

    [Fact]
    public async Task A_graceful_stop_closes_every_session_of_the_node_in_the_database()
    {
        using var database = new TemporarySqliteFile("shared.db");
        var server = new GatewayTestServer(database: database, nodeId: "node-a");
        await using var client = server.CreateClient(GatewayTestServer.Token("alice", GatewayRoles.Dashboard));
        var sessionId = (await client.StartAsync()).SessionId;
        Assert.Equal(1L, SessionState(database, sessionId).IsActive);

        // The client is still connected when the server stops.
        await Task.Run(server.Dispose).WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal((0L, "server_shutdown"), SessionState(database, sessionId));
    }

    [Fact]
    public async Task A_stop_that_cannot_write_still_completes_and_the_next_start_closes_the_sessions()
    {
        using var database = new TemporarySqliteFile("locked-at-stop.db");
        var logs = new CapturingLoggerProvider();
        var settings = new Dictionary<string, string?> { ["Database:BusyTimeoutSeconds"] = "1" };
        var server = new GatewayTestServer(settings, database, "node-locked", services => services.AddSingleton<ILoggerProvider>(logs));
        await using var client = server.CreateClient(GatewayTestServer.Token("alice", GatewayRoles.Dashboard));
        var sessionId = (await client.StartAsync()).SessionId;

        // Another process holds the write lock for the whole stop: closing the node's rows fails with database busy.
        using (database.HoldWriteLock())
        {
            await Task.Run(server.Dispose).WaitAsync(TimeSpan.FromSeconds(30));
        }

        Assert.Contains(logs.Lines, line => line.Contains("NodeSessionLifecycle[3303] Warning", StringComparison.Ordinal));
        // The close is owed to the database until a write gets through; the stop came first, so the next start closes it.
        Assert.Contains(logs.Lines, line => line.Contains($"SessionManager[3107] Warning: Session {sessionId} ended", StringComparison.Ordinal));
        // Only the gateway's own records of the failed writes (the writer's, the reaper's if it ran meanwhile) are
        // errors; nothing escaped into SignalR or the host.
        string[] recorded = ["Gateway.Server.Sessions.SessionWriter[3001]", "Gateway.Server.Sessions.SessionMaintenance[3203]"];
        Assert.DoesNotContain(logs.Lines, line => (line.Contains("] Error:", StringComparison.Ordinal) && !recorded.Any(r => line.StartsWith(r, StringComparison.Ordinal)))
            || line.Contains("] Critical:", StringComparison.Ordinal));
        Assert.Equal((1L, null), SessionState(database, sessionId));

        using var restarted = new GatewayTestServer(settings, database, "node-locked");
        _ = restarted.BaseAddress;
        Assert.Equal((0L, "node_restarted"), SessionState(database, sessionId));
    }

    [Fact]
    public async Task Sessions_left_active_by_a_killed_process_are_closed_when_that_node_starts_again()
    {
        using var database = new TemporarySqliteFile("crash.db");
        var environment = new Dictionary<string, string?>
        {
            ["DATABASE_URL"] = database.DatabaseUrl,
            ["Node__Id"] = "crashing-node",
            ["Auth__SigningKey"] = GatewayTestServer.SigningKey,
        };

        string sessionId;
        await using (var first = await GatewayServerProcess.StartAsync(database.Directory, environment))
        {
            Assert.False(first.HasExited, first.Output);
            var connection = new HubConnectionBuilder()
                .WithUrl(new Uri(first.BaseAddress, "/hubs/gateway"), options =>
                    options.AccessTokenProvider = () => Task.FromResult<string?>(GatewayTestServer.Token("alice", GatewayRoles.Agent)))
                .Build();
            var established = new TaskCompletionSource<ConnectionEstablished>();
            connection.On<ConnectionEstablished>(nameof(IGatewayClient.ConnectionEstablished), e => established.TrySetResult(e));
            await connection.StartAsync().WaitAsync(TestHubConnections.Timeout);
            sessionId = (await established.Task.WaitAsync(TestHubConnections.Timeout)).SessionId;
            // DisposeAsync kills the process: no graceful stop, the row stays active.
        }

        Assert.Equal(1L, SessionState(database, sessionId).IsActive);

        await using var second = await GatewayServerProcess.StartAsync(database.Directory, environment);
        Assert.False(second.HasExited, second.Output);

        Assert.Equal((0L, "node_restarted"), SessionState(database, sessionId));
    }

    [Fact]
    public async Task Another_node_leaves_this_nodes_sessions_alone_at_start()
    {
        using var database = new TemporarySqliteFile("two-nodes.db");
        using var nodeA = new GatewayTestServer(database: database, nodeId: "node-a");
        await using var client = nodeA.CreateClient(GatewayTestServer.Token("alice", GatewayRoles.Agent));
        var established = await client.StartAsync();

        using var nodeB = new GatewayTestServer(database: database, nodeId: "node-b");
        _ = nodeB.BaseAddress;

        Assert.Equal(1L, SessionState(database, established.SessionId).IsActive);
    }

    internal static (long IsActive, string? CloseReason) SessionState(ITestDatabase database, string sessionId)
    {
        var row = database.QueryStrings($"SELECT CASE WHEN is_active THEN '1' ELSE '0' END || metadata FROM sessions WHERE id = '{sessionId}'");
        Assert.True(row.Length == 1, $"no row for session {sessionId}");
        using var metadata = JsonDocument.Parse(row[0][1..]);
        var reason = metadata.RootElement.TryGetProperty("closeReason", out var value) ? value.GetString() : null;
        return (row[0][0] == '1' ? 1 : 0, reason);
    }
}
