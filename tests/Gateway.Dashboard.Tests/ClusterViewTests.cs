using Gateway.Dashboard.Tests.Infrastructure;
using Gateway.Testing;

namespace Gateway.Dashboard.Tests;

/// <summary>
/// The dashboard of one node of two on a shared database: the nodes panel shows both from the registry with their
/// sessions, each session shows its node, and a node killed with SIGKILL shows as lost once a peer declares it so.
/// </summary>
[Collection(BrowserCollection.Name)]
public sealed class ClusterViewTests(BrowserFixture browser)
{
    [Fact]
    public async Task Shows_every_node_with_its_sessions_which_node_each_session_is_on_and_a_killed_node_as_lost()
    {
        using var database = new TemporarySqliteFile("cluster.db");
        using var a = new GatewayTestServer(
            new Dictionary<string, string?> { ["Node:HeartbeatIntervalSeconds"] = "0.5", ["Node:LostAfterSeconds"] = "3" }, database, "node-a");
        _ = a.BaseAddress;
        var b = await GatewayServerProcess.StartAsync(database.Directory, new Dictionary<string, string?>
        {
            ["DATABASE_URL"] = database.DatabaseUrl,
            ["Node__Id"] = "node-b",
            ["Node__HeartbeatIntervalSeconds"] = "0.5",
            ["Node__LostAfterSeconds"] = "3",
            ["Auth__SigningKey"] = GatewayTestServer.SigningKey,
        });
        await using var _b = b;
        Assert.False(b.HasExited, b.Output);
        // A client of node-b (the hub's path, at node-b's address).
        await using var agent = a.CreateClient(GatewayTestServer.Token("agent-b", "agent"), clientId: "agent-on-node-b", through: b.BaseAddress);
        var onB = await agent.StartAsync();
        Assert.Equal("node-b", onB.NodeId);

        await using var page = await browser.OpenPageAsync();
        await page.SignInAsync(a.BaseAddress, GatewayTestServer.Token("alice", "admin"));
        const string NodeA = "#node-rows tr[data-node-id='node-a']";
        const string NodeB = "#node-rows tr[data-node-id='node-b']";
        await page.WaitForAsync(NodeA + "[data-state='live'] td.node.answering", "node-a");
        await page.WaitForAsync(NodeB + "[data-state='live'] td.sessions", "1");
        await page.WaitForAsync(NodeA + " td.sessions", "1");
        Assert.Contains(b.BaseAddress.Authority, await page.TextAsync(NodeB), StringComparison.Ordinal);
        await page.WaitForAsync(DashboardSteps.SessionRow(onB.SessionId) + ".active td.node", "node-b");
        await page.WaitForAsync("#sessions-rows tr.own td.node", "node-a");
        await page.WaitForAsync("#nodes-count", "2");

        await b.DisposeAsync();
        // Unbeaten past Node:LostAfterSeconds (3 s): node-a declares it lost and closes its session as node_lost.
        await page.WaitForAsync(NodeB + "[data-state='lost']", "lost", timeout: TimeSpan.FromSeconds(20));
        await page.WaitForAsync("#nodes-count", "1");
        await page.ClickAsync("#sessions-show-closed");
        await page.WaitForAsync(DashboardSteps.SessionRow(onB.SessionId) + ".inactive", "node_lost");
        await Screenshots.SaveAsync(page, "dashboard-cluster.png", updateDocs: false);
        await page.AssertNoConsoleErrorsAsync();
    }
}
