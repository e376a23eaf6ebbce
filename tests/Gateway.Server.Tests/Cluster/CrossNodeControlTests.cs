using System.Net.Http.Json;
using Gateway.Contracts;
using Gateway.Server.Tests.Sessions;
using Gateway.Testing;
using Microsoft.AspNetCore.Http.Connections;
using Microsoft.AspNetCore.SignalR.Client;
using CloseReasons = Gateway.Server.Sessions.CloseReasons;

namespace Gateway.Server.Tests.Cluster;

/// <summary>
/// Several nodes on one SQLite file, controlled through the database alone: admins on any node see every node's
/// sessions open and close, disconnect a session wherever it is held, and the per-user limit counts every live node.
/// </summary>
[Trait(TestProviders.Trait, TestProviders.Both)]
public sealed class CrossNodeControlTests
{
    private static readonly Dictionary<string, string?> Settings = new()
    {
        ["Node:HeartbeatIntervalSeconds"] = "0.2",
        ["Node:LostAfterSeconds"] = "1",
    };

    private static async Task<(TestHubClient Admin, List<SessionInfo> Opened, List<SessionInfo> Closed)> AdminAsync(GatewayTestServer node)
    {
        var admin = node.CreateClient(GatewayTestServer.Token("root", GatewayRoles.Admin), messagePack: true);
        var opened = new List<SessionInfo>();
        var closed = new List<SessionInfo>();
        admin.Connection.On<SessionInfo>(nameof(IGatewayClient.SessionOpened), s => { lock (opened) { opened.Add(s); } });
        admin.Connection.On<SessionInfo>(nameof(IGatewayClient.SessionClosed), s => { lock (closed) { closed.Add(s); } });
        await admin.StartAsync();
        await admin.Connection.InvokeAsync(nameof(IGatewayHub.SubscribeSessions));
        return (admin, opened, closed);
    }

    private static bool Has(List<SessionInfo> events, string sessionId)
    {
        lock (events)
        {
            return events.Any(e => e.Id == sessionId);
        }
    }

    [Theory]
    [InlineData(HttpTransportType.WebSockets, false, "rest")]
    [InlineData(HttpTransportType.ServerSentEvents, false, "hub")]
    [InlineData(HttpTransportType.LongPolling, true, "hub")]
    public async Task An_admin_on_one_node_disconnects_a_session_held_by_another_and_its_client_is_told_why(
        HttpTransportType transport, bool messagePack, string via)
    {
        using var database = TestDatabases.Create("cluster.db");
        using var a = new GatewayTestServer(Settings, database, "node-a");
        _ = a.BaseAddress;
        using var b = new GatewayTestServer(Settings, database, "node-b");
        var (admin, opened, closed) = await AdminAsync(a);
        await using var _admin = admin;

        await using var client = b.CreateClient(GatewayTestServer.Token("erin", GatewayRoles.Agent), transport, messagePack, clientId: "erin-1");
        var sessionId = (await client.StartAsync()).SessionId;
        await SessionRowTests.Eventually(() => Has(opened, sessionId), what: "node a's admin told of the session opened on node b");

        var started = DateTime.UtcNow;
        if (via == "rest")
        {
            var response = await a.As("root", GatewayRoles.Admin).DeleteAsync($"/api/sessions/{sessionId}?reason=maintenance");
            Assert.True(response.IsSuccessStatusCode, $"{(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        }
        else
        {
            Assert.True(await admin.Connection.InvokeAsync<bool>(nameof(IGatewayHub.DisconnectSession), sessionId, "maintenance"));
        }

        var notice = await client.Closing;
        var tookMs = (DateTime.UtcNow - started).TotalMilliseconds;
        await client.Closed;
        Assert.Equal((HubErrorCodes.DisconnectedByAdmin, "maintenance", false), (notice.Code, notice.Reason, notice.Reconnect));
        Assert.True(tookMs < 1500, $"the notice took {tookMs:F0} ms");
        Assert.Equal(
            ["0", CloseReasons.DisconnectedByAdmin, "maintenance"],
            database.QueryStrings(
                $"SELECT CASE WHEN is_active THEN '1' ELSE '0' END FROM sessions WHERE id = '{sessionId}' UNION ALL SELECT {database.JsonText("metadata", "closeReason")} FROM sessions WHERE id = '{sessionId}' UNION ALL SELECT {database.JsonText("metadata", "closeMessage")} FROM sessions WHERE id = '{sessionId}'"));
        await SessionRowTests.Eventually(() => Has(closed, sessionId), what: "node a's admin told of the session closed on node b");
    }

    [Fact]
    public async Task A_session_whose_node_has_no_live_row_is_closed_in_the_database_by_the_admins_node()
    {
        using var database = TestDatabases.Create("cluster.db");
        using var a = new GatewayTestServer(Settings, database, "node-a");
        _ = a.BaseAddress;
        database.Execute(
            """
            INSERT INTO sessions (id, client_id, user_id, connection_type, is_active, metadata)
            VALUES ('ghost', 'c', 'u', 'websocket', TRUE, '{"nodeId":"node-gone"}')
            """);

        var response = await a.As("root", GatewayRoles.Admin).DeleteAsync("/api/sessions/ghost?reason=cleanup");

        Assert.True(response.IsSuccessStatusCode, $"{(int)response.StatusCode}");
        Assert.Equal("0", database.QueryString("SELECT is_active FROM sessions WHERE id = 'ghost'"));
    }

    [Fact]
    public async Task The_per_user_limit_counts_the_users_sessions_on_every_live_node()
    {
        var settings = new Dictionary<string, string?>(Settings) { ["Limits:MaxConnectionsPerUser"] = "2", ["Limits:RefusalRecordIntervalSeconds"] = "0" };
        using var database = TestDatabases.Create("cluster.db");
        using var a = new GatewayTestServer(settings, database, "node-a");
        _ = a.BaseAddress;
        using var b = new GatewayTestServer(settings, database, "node-b");
        using var c = new GatewayTestServer(settings, database, "node-c");
        var token = GatewayTestServer.Token("frank", GatewayRoles.Agent);

        await using var first = a.CreateClient(token);
        await first.StartAsync();
        await using var second = b.CreateClient(token, HttpTransportType.ServerSentEvents);
        await second.StartAsync();
        await using var third = c.CreateClient(token, HttpTransportType.LongPolling, messagePack: true, clientId: "third");
        await third.Connection.StartAsync().WaitAsync(TestHubConnections.Timeout);
        var refused = await third.Closed;
        await using var other = c.CreateClient(GatewayTestServer.Token("grace", GatewayRoles.Agent));
        await other.StartAsync();

        await first.DisposeAsync();
        await using var fourth = c.CreateClient(token);
        await SessionRowTests.Eventually(
            () => database.QueryLong("SELECT count(*) FROM sessions WHERE user_id = 'frank' AND is_active") == 1, what: "the first session closed");
        await fourth.StartAsync();

        Assert.Equal(HubErrorCodes.TooManyConnections, HubErrorCodes.CodeOf(refused?.Message));
        Assert.Equal(2, database.QueryLong("SELECT count(*) FROM sessions WHERE user_id = 'frank' AND is_active"));
        Assert.Equal(1, database.QueryLong(
            $"SELECT count(*) FROM sessions WHERE client_id = 'third' AND {database.JsonText("metadata", "closeReason")} = '{CloseReasons.TooManyConnections}'"));
    }

    [Fact]
    public async Task A_lost_nodes_sessions_are_closed_by_a_live_peer_and_announced_to_its_admins()
    {
        using var database = TestDatabases.Create("cluster.db");
        using var a = new GatewayTestServer(Settings, database, "node-a");
        _ = a.BaseAddress;
        var (admin, _, closed) = await AdminAsync(a);
        await using var _admin = admin;
        {
            // A node that stopped beating 5 s ago (Node:LostAfterSeconds is 1), holding two active sessions.
            var seen = database.TimestampLiteral(DateTime.UtcNow.AddSeconds(-5));
            database.Execute(
                $"""
                INSERT INTO gateway_nodes (id, instance_id, version, address, started_at, last_seen) VALUES ('node-dead', 'x', '1', NULL, {seen}, {seen});
                INSERT INTO sessions (id, client_id, user_id, connection_type, is_active, metadata)
                VALUES ('dead-1', 'c1', 'u', 'websocket', TRUE, '{"{"}"nodeId":"node-dead"{"}"}'),
                       ('dead-2', 'c2', 'u', 'long_polling', TRUE, '{"{"}"nodeId":"node-dead"{"}"}'),
                       ('alive', 'c3', 'u', 'websocket', TRUE, '{"{"}"nodeId":"node-elsewhere"{"}"}');
                """);
        }

        await SessionRowTests.Eventually(() => Has(closed, "dead-1") && Has(closed, "dead-2"), what: "both of the lost node's sessions announced closed");

        Assert.Equal(0, database.QueryLong("SELECT count(*) FROM gateway_nodes WHERE id = 'node-dead'"));
        Assert.Equal(
            ["<null>", CloseReasons.NodeLost, CloseReasons.NodeLost],
            database.QueryStrings($"SELECT {database.JsonText("metadata", "closeReason")} FROM sessions WHERE id IN ('dead-1', 'dead-2', 'alive') ORDER BY id"));
        Assert.Equal(1, database.QueryLong("SELECT is_active FROM sessions WHERE id = 'alive'"));
    }

    [Fact]
    public async Task Each_node_keeps_its_registry_row_fresh_and_deletes_it_when_it_stops()
    {
        using var database = TestDatabases.Create("cluster.db");
        var a = new GatewayTestServer(Settings, database, "node-a");
        _ = a.BaseAddress;
        using var b = new GatewayTestServer(Settings, database, "node-b");
        _ = b.BaseAddress;
        var first = database.QueryString("SELECT last_seen FROM gateway_nodes WHERE id = 'node-a'");
        await SessionRowTests.Eventually(
            () => database.QueryString("SELECT last_seen FROM gateway_nodes WHERE id = 'node-a'") != first, what: "node a's row beaten");

        Assert.Equal(["node-a", "node-b"], database.QueryStrings("SELECT id FROM gateway_nodes ORDER BY id"));
        await using (var client = b.CreateClient(GatewayTestServer.Token("erin", GatewayRoles.Agent)))
        {
            await client.StartAsync();
            var nodes = await b.As("root", GatewayRoles.Admin).GetFromJsonAsync<System.Text.Json.JsonElement>("/api/nodes");
            Assert.Equal(
                ["node-a live=True sessions=0 answering=False", "node-b live=True sessions=1 answering=True"],
                nodes.EnumerateArray().Select(n =>
                    $"{n.GetProperty("id").GetString()} live={n.GetProperty("live").GetBoolean()} sessions={n.GetProperty("activeSessions").GetInt64()} answering={n.GetProperty("answering").GetBoolean()}"));
            Assert.Equal(System.Net.HttpStatusCode.Forbidden, (await b.As("erin", GatewayRoles.Agent).GetAsync("/api/nodes")).StatusCode);
        }

        Assert.Equal(a.BaseAddress.ToString().TrimEnd('/'), database.QueryString("SELECT address FROM gateway_nodes WHERE id = 'node-a'")!.TrimEnd('/'));
        a.Dispose();
        Assert.Equal(["node-b"], database.QueryStrings("SELECT id FROM gateway_nodes ORDER BY id"));
    }
}
