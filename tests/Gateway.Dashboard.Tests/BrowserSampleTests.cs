using Gateway.Dashboard.Tests.Infrastructure;
using Gateway.Testing;

namespace Gateway.Dashboard.Tests;

/// <summary>client-samples/browser as the gateway serves it, in headless Chromium.</summary>
[Collection(BrowserCollection.Name)]
public sealed class BrowserSampleTests(BrowserFixture browser)
{
    [Fact]
    public async Task Receives_events_created_over_rest_and_resumes_after_its_connection_drops()
    {
        using var server = new GatewayTestServer();
        await using var proxy = new LoopbackProxy(server.BaseAddress);
        var orchestrator = server.As("orchestrator", "admin");
        await using var page = await browser.OpenPageAsync();
        await page.GotoAsync(new Uri(proxy.Address, "/samples/browser/"));
        await page.FillAsync("#token", GatewayTestServer.Token("watcher", "dashboard"));
        await page.ClickAsync("#connect-button");
        await page.WaitForAsync("#status", "subscribed");

        await orchestrator.CreateTaskAsync("seen live");
        await page.WaitForAsync("#events li[data-type='task.created']", "seen live");

        Assert.True(proxy.DropAll() > 0, "the page's connection went through the proxy");
        await orchestrator.CreateTaskAsync("created while the connection was down");
        await page.WaitForAsync("#status", "subscribed", TimeSpan.FromSeconds(30));
        await orchestrator.CreateTaskAsync("seen after the reconnect");
        await page.WaitForAsync("#events li", "seen after the reconnect");

        var ids = await page.EvaluateAsync<long[]>("[...document.querySelectorAll('#events li')].map(li => Number(li.dataset.eventId))");
        Assert.Equal([1, 2, 3], ids);
        Assert.Contains("created while the connection was down", await page.TextAsync("#events"), StringComparison.Ordinal);
        // The SignalR client reports the drop this test caused as an error; nothing else may be one.
        await page.AssertNoConsoleErrorsAsync(m => ReconnectTests.IsNetworkFailure(m)
            || m.Text.Contains("Connection disconnected with error 'Error: WebSocket closed with status code: 1006", StringComparison.Ordinal));
    }
}
