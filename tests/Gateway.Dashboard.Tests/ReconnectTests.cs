using Gateway.Dashboard.Tests.Infrastructure;
using Gateway.Testing;

namespace Gateway.Dashboard.Tests;

/// <summary>
/// The dashboard across a gateway restart: the page reaches the gateway through a loopback proxy whose address stays
/// while the server behind it stops and a new one starts on the same database.
/// </summary>
[Collection(BrowserCollection.Name)]
public sealed class ReconnectTests(BrowserFixture browser)
{
    [Fact]
    public Task Shows_reconnecting_across_a_server_restart_then_resumes_without_missing_an_event() =>
        ResumesAfterAnOutageAsync(page => page.WaitForAsync("#connection[data-state='reconnecting']"));

    /// <summary>SignalR's own schedule (0, 0.5, 1, 2, 4, 8 s) runs out after about 16 s; the page then retries on its own and says when.</summary>
    [Fact]
    public Task After_signalrs_own_reconnects_give_up_the_page_keeps_retrying_and_resumes_without_a_gap() =>
        ResumesAfterAnOutageAsync(page => page.WaitForAsync("#connection-text", text: "retrying in", timeout: TimeSpan.FromSeconds(40)));

    /// <summary>The gateway fails the page's subscription on a connection that stays up: the page subscribes again.</summary>
    [Fact]
    public async Task A_subscription_the_gateway_fails_is_tried_again_and_the_page_misses_nothing()
    {
        var failing = new FailingSubscribeFilter();
        using var server = new GatewayTestServer(configureServices: failing.AddTo);
        var orchestrator = server.As("orchestrator", "admin");
        failing.FailNext();
        await using var page = await browser.OpenPageAsync();

        await page.SignInAsync(server.BaseAddress, GatewayTestServer.Token("alice", "admin"));
        var after = await orchestrator.CreateTaskAsync("after the failed subscription");
        await page.WaitForAsync(DashboardSteps.Card(after, "pending"));

        Assert.Equal(1, failing.Failed);
        var head = server.HeadEventId();
        await page.WaitForLastEventIdAsync(head);
        await page.AssertNoConsoleErrorsAsync();
    }

    [Fact]
    public async Task A_position_the_log_no_longer_holds_reloads_the_state_over_rest()
    {
        using var database = new TemporarySqliteFile("gateway.db");
        var first = new GatewayTestServer(database: database, nodeId: "dashboard-node");
        GatewayTestServer? second = null;
        try
        {
            await using var proxy = new LoopbackProxy(first.BaseAddress);
            await using var page = await browser.OpenPageAsync();
            await page.SignInAsync(proxy.Address, GatewayTestServer.Token("alice", "admin"));
            var task = await first.As("orchestrator", "admin").CreateTaskAsync("kept");
            await page.WaitForAsync(DashboardSteps.Card(task, "pending"));

            first.Dispose();
            await page.WaitForAsync("#connection[data-state='reconnecting']");
            // The task changes while the page is away, and its event is pruned before the page comes back: the log is
            // emptied as retention prunes it, the floor raised to the last id deleted.
            database.QueryLong(
                "UPDATE tasks SET status = 'cancelled' WHERE id = '" + task + "'; "
                + "INSERT INTO gateway_events (event_type, priority, task_id, payload) VALUES ('task.status', 1, '" + task + "', '{\"status\":\"cancelled\"}'); "
                + "UPDATE gateway_log SET retention_floor = (SELECT MAX(id) FROM gateway_events); DELETE FROM gateway_events; SELECT 0");
            second = new GatewayTestServer(database: database, nodeId: "dashboard-node");
            proxy.Target = second.BaseAddress;

            await page.WaitForAsync("#notice", "state reloaded", TimeSpan.FromSeconds(30));
            await page.WaitForAsync(DashboardSteps.Card(task, "cancelled"));
            await page.AssertNoConsoleErrorsAsync(IsNetworkFailure);
        }
        finally
        {
            first.Dispose();
            second?.Dispose();
        }
    }

    /// <summary>
    /// The gateway stops once the page shows a task; <paramref name="whileAway"/> waits for what the page shows
    /// meanwhile; a new server on the same database records changes before the page gets back; the page then shows
    /// every event of the log once, in order, and no reset.
    /// </summary>
    private async Task ResumesAfterAnOutageAsync(Func<BrowserPage, Task> whileAway)
    {
        using var database = new TemporarySqliteFile("gateway.db");
        var first = new GatewayTestServer(database: database, nodeId: "dashboard-node");
        GatewayTestServer? second = null;
        try
        {
            await using var proxy = new LoopbackProxy(first.BaseAddress);
            await using var page = await browser.OpenPageAsync();
            await page.SignInAsync(proxy.Address, GatewayTestServer.Token("alice", "admin"));

            var before = await first.As("orchestrator", "admin").CreateTaskAsync("before the restart");
            await page.WaitForAsync(DashboardSteps.Card(before, "pending"));

            first.Dispose();
            await whileAway(page);

            second = new GatewayTestServer(database: database, nodeId: "dashboard-node");
            var orchestrator = second.As("orchestrator", "admin");
            // Changes while the page is still away: it must catch up on them from the log.
            var during = await orchestrator.CreateTaskAsync("while the page was away");
            await orchestrator.ChangeStatusAsync(before, "running");
            proxy.Target = second.BaseAddress;

            await page.WaitForAsync("#connection[data-state='connected']", timeout: TimeSpan.FromSeconds(30));
            var after = await orchestrator.CreateTaskAsync("after the reconnect");
            await page.WaitForAsync(DashboardSteps.Card(after, "pending"));
            await page.WaitForAsync(DashboardSteps.Card(during, "pending"));
            await page.WaitForAsync(DashboardSteps.Card(before, "running"));

            var head = second.HeadEventId();
            await page.WaitForLastEventIdAsync(head);
            // Every event of the log, once, in order: nothing lost while the page was away, nothing repeated.
            Assert.Equal(Enumerable.Range(1, (int)head).Select(i => (long)i), await page.EventIdsAsync());
            Assert.True(await page.EvaluateAsync<bool>("document.getElementById('notice').hidden"), "no reset notice expected");

            // Chromium notes the refused connections while the gateway was down; nothing else may be an error.
            await page.AssertNoConsoleErrorsAsync(IsNetworkFailure);
        }
        finally
        {
            first.Dispose();
            second?.Dispose();
        }
    }

    /// <summary>Chromium's own notes of refused or cut connections, expected while the gateway is away.</summary>
    /// <summary>
    /// What Chromium notes while the gateway is away: refused connections, and a reconnect that reached the node while
    /// it was stopping, refused with 503 so that it comes back (to another node, behind a balancer).
    /// </summary>
    internal static bool IsNetworkFailure(ConsoleMessage message) =>
        message.Text.Contains("net::ERR_", StringComparison.Ordinal)
        || message.Text.StartsWith("WebSocket connection to", StringComparison.Ordinal)
        || (message.Text.Contains("status of 503", StringComparison.Ordinal) && message.Url.Contains("/hubs/gateway/negotiate", StringComparison.Ordinal));
}
