using System.Globalization;
using Gateway.Testing;
using Xunit.Abstractions;

namespace Gateway.Samples.Tests;

/// <summary>
/// The sample's two verbs in-process against a real gateway: <c>watch</c> follows everything while <c>agent</c> runs a
/// workflow of three tasks, one of which fails.
/// </summary>
public sealed class SampleEndToEndTests(ITestOutputHelper log)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Agent_and_watch_run_against_a_real_gateway()
    {
        using var server = new GatewayTestServer();
        var url = server.BaseAddress.ToString().TrimEnd('/');
        var watchToken = GatewayTestServer.Token("watcher", "dashboard");
        var agentToken = GatewayTestServer.Token("sample-agent", "agent");
        using var cancel = new CancellationTokenSource(Timeout);

        var watchOutput = new StringWriter(CultureInfo.InvariantCulture);
        // --exit-after counts from the watch's start, not from its last event: room for an agent run slowed by a loaded machine.
        var watch = Gateway.Samples.Program.RunAsync(
            ["watch", "--url", url, "--token", watchToken, "--protocol", "messagepack", "--after", "0", "--max-events", "10000", "--exit-after", "25"],
            watchOutput,
            cancel.Token);

        var agentOutput = new StringWriter(CultureInfo.InvariantCulture);
        var agentExit = await Gateway.Samples.Program.RunAsync(
            ["agent", "--url", url, "--token", agentToken, "--tasks", "3", "--fail-every", "2", "--rate", "50", "--output-bytes", "100", "--seed", "7"],
            agentOutput,
            cancel.Token).WaitAsync(Timeout);
        var watchExit = await watch.WaitAsync(Timeout);

        var agentText = agentOutput.ToString();
        var watchText = watchOutput.ToString();
        log.WriteLine(agentText);
        log.WriteLine(watchText);
        Assert.True(agentExit == 0, agentText);
        Assert.Contains("tasks 3: completed 2, failed 1", agentText, StringComparison.Ordinal);
        Assert.Contains("tool executions 3", agentText, StringComparison.Ordinal);
        Assert.Matches(@"events caused [1-9]\d*", agentText);

        Assert.True(watchExit == 0, watchText);
        var lines = watchText.Split('\n');
        Assert.Contains(lines, line => line.Contains(" task.failed ", StringComparison.Ordinal));
        Assert.Contains(lines, line => line.Contains(" tool.completed ", StringComparison.Ordinal));
        Assert.Contains(lines, line => line.Contains(" tool.failed ", StringComparison.Ordinal));
        Assert.Contains(lines, line => line.Contains(" workflow.progress ", StringComparison.Ordinal));
        // The database was fresh, so the watch (replaying from event 0) saw exactly the events the agent caused.
        var caused = System.Text.RegularExpressions.Regex.Match(agentText, @"events caused (\d+)").Groups[1].Value;
        Assert.Contains($"-- stopped after {caused} events", watchText, StringComparison.Ordinal);

        Assert.Equal(3, server.Database.QueryLong("SELECT COUNT(*) FROM tasks"));
        Assert.Equal(1, server.Database.QueryLong("SELECT COUNT(*) FROM tasks WHERE status = 'failed'"));
        Assert.Equal(2, server.Database.QueryLong("SELECT COUNT(*) FROM tasks WHERE status = 'completed'"));
        Assert.Equal(3, server.Database.QueryLong("SELECT COUNT(*) FROM tool_executions"));
    }

    [Fact]
    public async Task Watch_reports_a_refused_subscription_and_stops_cleanly_on_cancellation()
    {
        using var server = new GatewayTestServer();
        var url = server.BaseAddress.ToString().TrimEnd('/');
        using var cancel = new CancellationTokenSource(Timeout);

        // An agent may not follow every event: the gateway refuses, the verb says why and exits 1.
        var refused = new StringWriter(CultureInfo.InvariantCulture);
        var exit = await Gateway.Samples.Program.RunAsync(
            ["watch", "--url", url, "--token", GatewayTestServer.Token("a", "agent"), "--exit-after", "5"], refused, cancel.Token).WaitAsync(Timeout);
        Assert.Equal(1, exit);
        Assert.Contains("forbidden", refused.ToString(), StringComparison.Ordinal);

        // Ctrl+C (the token) ends watch cleanly.
        using var ctrlC = CancellationTokenSource.CreateLinkedTokenSource(cancel.Token);
        ctrlC.CancelAfter(TimeSpan.FromSeconds(1));
        var stopped = new StringWriter(CultureInfo.InvariantCulture);
        exit = await Gateway.Samples.Program.RunAsync(
            ["watch", "--url", url, "--token", GatewayTestServer.Token("d", "dashboard")], stopped, ctrlC.Token).WaitAsync(Timeout);
        Assert.True(exit == 0, stopped.ToString());
        Assert.Contains("-- stopped after 0 events", stopped.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Agent_with_a_read_only_token_is_refused_with_the_hub_error_code_and_changes_nothing()
    {
        using var server = new GatewayTestServer();
        var url = server.BaseAddress.ToString().TrimEnd('/');

        var output = new StringWriter(CultureInfo.InvariantCulture);
        var exit = await Gateway.Samples.Program.RunAsync(
            ["agent", "--url", url, "--token", GatewayTestServer.Token("viewer", "dashboard"), "--tasks", "2"], output, CancellationToken.None).WaitAsync(Timeout);

        Assert.True(exit == 1, output.ToString());
        Assert.Contains("error: the gateway refused (forbidden)", output.ToString(), StringComparison.Ordinal);
        Assert.Equal(0, server.Database.QueryLong("SELECT COUNT(*) FROM workflows"));
    }
}
