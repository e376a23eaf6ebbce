using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Gateway.Contracts;
using Gateway.Server.Tests.Sessions;
using Gateway.Testing;

namespace Gateway.Server.Tests.Cluster;

/// <summary>
/// A node whose network to PostgreSQL goes down stops serving rather than serve a view that no longer moves: readiness
/// fails, its clients are told to reconnect (a balancer sends them to another node), new connections are refused with
/// 503; it serves again by itself once it reaches the database.
/// </summary>
public sealed class PostgresNodeCutOffTests
{
    [Fact]
    public async Task A_node_cut_off_from_the_database_stops_serving_and_serves_again_once_it_reaches_it()
    {
        await using var database = await TestPostgres.CreateMigratedDatabaseAsync("cutoff");
        var direct = new Uri(database.Url);
        await using var network = new LoopbackProxy(new Uri($"http://{direct.Host}:{direct.Port}"));
        var through = new UriBuilder(database.Url) { Host = "127.0.0.1", Port = network.Address.Port }.Uri.ToString();
        using var server = new GatewayTestServer(
            new Dictionary<string, string?>
            {
                ["DATABASE_URL"] = through,
                ["Node:HeartbeatIntervalSeconds"] = "0.5",
                ["Node:LostAfterSeconds"] = "2",
            },
            database,
            nodeId: "cut-node");
        var token = GatewayTestServer.Token("viewer", GatewayRoles.Dashboard);
        using var http = server.CreateHttpClient(token);
        using (var ready = await http.GetAsync(new Uri("/health/ready", UriKind.Relative)))
        {
            Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        }

        await using var client = server.CreateClient(token);
        var first = await client.StartAsync();

        network.CutOff();
        var notice = await client.Closing;
        Assert.Equal(HubErrorCodes.NodeUnavailable, notice.Code);
        Assert.True(notice.Reconnect);

        using (var ready = await http.GetAsync(new Uri("/health/ready", UriKind.Relative)))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
            var node = (await ready.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("checks").GetProperty("node");
            Assert.Equal("Unhealthy", node.GetProperty("status").GetString());
            Assert.StartsWith(HubErrorCodes.NodeUnavailable, node.GetProperty("description").GetString(), StringComparison.Ordinal);
        }

        using (var negotiate = await http.PostAsync(new Uri(GatewayRoutes.Hub + "/negotiate?negotiateVersion=1", UriKind.Relative), null))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, negotiate.StatusCode);
            Assert.NotNull(negotiate.Headers.RetryAfter);
            Assert.Equal(HubErrorCodes.NodeUnavailable, (await negotiate.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("code").GetString());
        }

        network.Refusing = false;
        await SessionRowTests.Eventually(
            () => http.GetAsync(new Uri("/health/ready", UriKind.Relative)).Result.StatusCode == HttpStatusCode.OK,
            TimeSpan.FromSeconds(20),
            "ready again once the database is reachable");
        await using var again = server.CreateClient(token);
        var established = await again.StartAsync();
        Assert.Equal("cut-node", established.NodeId);

        // The session it sent away ended while the database was away; its row is closed once writes get through,
        // not left active (counting toward the user's limit) until the reaper finds it stale.
        await SessionRowTests.Eventually(
            () => database.QueryStrings($"SELECT is_active::int || ' ' || (metadata::jsonb->>'closeReason') FROM sessions WHERE id = '{first.SessionId}'").SingleOrDefault() == "0 node_unavailable",
            TimeSpan.FromSeconds(10),
            "the session sent away closed as node_unavailable");
    }

    [Fact]
    public async Task Nodes_back_from_an_outage_of_the_database_give_each_other_time_to_beat_before_declaring_any_lost()
    {
        await using var database = await TestPostgres.CreateMigratedDatabaseAsync("outage");
        var direct = new Uri(database.Url);
        await using var network = new LoopbackProxy(new Uri($"http://{direct.Host}:{direct.Port}"));
        var settings = new Dictionary<string, string?>
        {
            ["DATABASE_URL"] = new UriBuilder(database.Url) { Host = "127.0.0.1", Port = network.Address.Port }.Uri.ToString(),
            ["Node:HeartbeatIntervalSeconds"] = "0.5",
            ["Node:LostAfterSeconds"] = "2",
        };
        using var a = new GatewayTestServer(settings, database, nodeId: "outage-a");
        using var b = new GatewayTestServer(settings, database, nodeId: "outage-b");
        _ = a.BaseAddress;
        _ = b.BaseAddress;
        const string Registry = "SELECT id || ' started ' || started_at::text FROM gateway_nodes ORDER BY id";
        var before = database.QueryStrings(Registry);
        Assert.Equal(2, before.Length);

        // Both away for longer than Node:LostAfterSeconds: whichever beats first sees the other's row unbeaten that long.
        network.CutOff();
        await Task.Delay(TimeSpan.FromSeconds(3));
        network.Refusing = false;
        foreach (var node in new[] { a, b })
        {
            using var http = node.CreateHttpClient();
            await SessionRowTests.Eventually(
                () => http.GetAsync(new Uri("/health/ready", UriKind.Relative)).Result.StatusCode == HttpStatusCode.OK,
                TimeSpan.FromSeconds(20),
                "ready again once the database is reachable");
        }

        // Past the time a node back would have declared the other lost, and deleted its row (it registers again, later).
        await Task.Delay(TimeSpan.FromSeconds(2.5));
        Assert.Equal(before, database.QueryStrings(Registry));
    }
}
