using System.Globalization;
using Gateway.Dashboard.Tests.Infrastructure;
using Gateway.Testing;

namespace Gateway.Dashboard.Tests;

/// <summary>
/// The dashboard in headless Chromium against the real gateway: what an operator sees while .NET clients connect and
/// the orchestrator changes tasks, workflows and tool executions over REST. Each test has its own server and page.
/// </summary>
[Collection(BrowserCollection.Name)]
public sealed class DashboardTests(BrowserFixture browser)
{
    [Fact]
    public async Task Signs_in_with_a_token_sees_a_dotnet_client_session_appear_and_signs_out()
    {
        using var server = new GatewayTestServer();
        await using var page = await browser.OpenPageAsync();
        await page.SignInAsync(server.BaseAddress, GatewayTestServer.Token("alice", "admin"));
        await page.WaitForAsync("#user-name", "alice");
        await page.WaitForAsync("#user-roles", "admin");
        await page.WaitForAsync("#sessions-rows tr.own.active");

        await using var client = server.CreateClient(GatewayTestServer.Token("agent-7", "agent"), clientId: "dotnet-agent-7");
        var established = await client.StartAsync();
        await page.WaitForAsync(DashboardSteps.SessionRow(established.SessionId) + ".active", "agent-7");
        Assert.Contains("dotnet-agent-7", await page.TextAsync(DashboardSteps.SessionRow(established.SessionId)), StringComparison.Ordinal);

        // The token is remembered for the tab: a reload signs in again without the form.
        await page.GotoAsync(server.BaseAddress);
        await page.WaitForAsync("#connection[data-state='connected']");
        Assert.True(await page.EvaluateAsync<bool>("document.getElementById('sign-in').hidden"));

        await page.ClickAsync("#sign-out");
        await page.WaitForAsync("#sign-in-form");
        Assert.Null(await page.EvaluateAsync<string?>("sessionStorage.getItem('gateway.token')"));
        await page.AssertNoConsoleErrorsAsync();
    }

    [Fact]
    public async Task Task_cards_move_columns_and_workflow_progress_and_tool_durations_follow_rest_changes()
    {
        using var server = new GatewayTestServer();
        var orchestrator = server.As("orchestrator", "admin");
        await using var page = await browser.OpenPageAsync();
        await page.SignInAsync(server.BaseAddress, GatewayTestServer.Token("alice", "admin"));

        var index = await orchestrator.CreateTaskAsync("Index the repository", "index");
        await page.WaitForAsync(DashboardSteps.Card(index, "pending"), "Index the repository");
        foreach (var status in new[] { "queued", "running" })
        {
            await orchestrator.ChangeStatusAsync(index, status);
            await page.WaitForAsync(DashboardSteps.Card(index, status));
            Assert.Equal(1, await page.EvaluateAsync<int>($"document.querySelectorAll(\".card[data-task-id='{index}']\").length"));
        }

        var review = await orchestrator.CreateTaskAsync("Review the change", "review");
        var workflow = (await orchestrator.PostAsync("/api/workflows", new { name = "Release 1.4", definition = new { steps = 2 } })).GetProperty("id").GetString()!;
        await orchestrator.PostAsync($"/api/workflows/{workflow}/tasks", new { taskId = index });
        await orchestrator.PostAsync($"/api/workflows/{workflow}/tasks", new { taskId = review });
        await orchestrator.PostAsync($"/api/workflows/{workflow}/status", new { status = "active" });
        await page.WaitForAsync($"#workflow-list li[data-workflow-id='{workflow}']", "0/2 tasks");

        var tool = (await orchestrator.PostAsync($"/api/tasks/{index}/tool-executions", new { toolName = "ripgrep", arguments = new { pattern = "TODO" } }))
            .GetProperty("id").GetString()!;
        await page.WaitForAsync($"#tool-rows tr[data-execution-id='{tool}'][data-status='running']", "ripgrep");
        await Task.Delay(30);
        var completed = await orchestrator.PostAsync($"/api/tool-executions/{tool}/complete", new { exitCode = 0 });
        var durationMs = completed.GetProperty("durationMs").GetInt64();
        await page.WaitForAsync($"#tool-rows tr[data-execution-id='{tool}'][data-status='completed']");
        Assert.Equal(DurationText(durationMs), await page.TextAsync($"#tool-rows tr[data-execution-id='{tool}'] td.duration"));

        await orchestrator.ChangeStatusAsync(index, "completed");
        await page.WaitForAsync(DashboardSteps.Card(index, "completed"));
        await page.WaitForAsync($"#workflow-list li[data-workflow-id='{workflow}']", "1/2 tasks · 50%");
        await orchestrator.ChangeStatusAsync(review, "running");
        await orchestrator.ChangeStatusAsync(review, "failed", error: "2 checks failed");
        await page.WaitForAsync(DashboardSteps.Card(review, "failed"), "2 checks failed");
        await page.WaitForAsync($"#workflow-list li[data-workflow-id='{workflow}'][data-status='failed']");

        // The stream holds every event since sign-in, and its filters narrow it.
        var head = server.HeadEventId();
        await page.WaitForLastEventIdAsync(head);
        Assert.Equal(Enumerable.Range(1, (int)head).Select(i => (long)i), await page.EventIdsAsync());
        await page.SelectAsync("#events-type", "tool.");
        var shownTypes = await page.EvaluateAsync<string[]>("[...document.querySelectorAll('#event-rows li:not([hidden])')].map(li => li.dataset.type)");
        Assert.Equal(["tool.completed", "tool.started"], shownTypes);
        await page.SelectAsync("#events-type", "");
        await page.SelectAsync("#events-priority", "2");
        shownTypes = await page.EvaluateAsync<string[]>("[...document.querySelectorAll('#event-rows li:not([hidden])')].map(li => li.dataset.type)");
        Assert.Equal(["workflow.failed", "task.failed"], shownTypes);
        await page.SelectAsync("#events-priority", "0");

        // A little more going on for the screenshot in docs/: two agents on different transports, a task in flight.
        await using var websocketAgent = server.CreateClient(GatewayTestServer.Token("agent-1", "agent"), clientId: "build-agent-1");
        await using var pollingAgent = server.CreateClient(
            GatewayTestServer.Token("agent-2", "agent"), Microsoft.AspNetCore.Http.Connections.HttpTransportType.LongPolling, messagePack: true, clientId: "build-agent-2");
        var sessions = new[] { await websocketAgent.StartAsync(), await pollingAgent.StartAsync() };
        await page.WaitForAsync(DashboardSteps.SessionRow(sessions[1].SessionId), "long_polling");
        var tests = await orchestrator.CreateTaskAsync("Run the test suite", "test");
        await orchestrator.ChangeStatusAsync(tests, "running");
        await orchestrator.PostAsync($"/api/tasks/{tests}/progress", new { progress = 60, message = "412 of 690 tests" });
        await orchestrator.CreateTaskAsync("Deploy to staging", "deploy");
        await page.WaitForAsync(DashboardSteps.Card(tests, "running"), "412 of 690 tests");
        await page.WaitForFunctionAsync("document.querySelector('#chart-connections polyline').getAttribute('points').split(' ').length >= 2");

        await Screenshots.SaveAsync(page, "dashboard.png");
        await page.AssertNoConsoleErrorsAsync();
    }

    [Fact]
    public async Task Admin_disconnects_a_session_with_a_reason_and_the_dotnet_client_is_told_why()
    {
        using var server = new GatewayTestServer();
        await using var page = await browser.OpenPageAsync();
        await page.SignInAsync(server.BaseAddress, GatewayTestServer.Token("alice", "admin"));
        await using var client = server.CreateClient(GatewayTestServer.Token("agent-9", "agent"), clientId: "dotnet-agent-9");
        var established = await client.StartAsync();
        var row = DashboardSteps.SessionRow(established.SessionId);
        await page.WaitForAsync(row + ".active");

        await page.ClickAsync($"{row} button.disconnect");
        await page.FillAsync($"{row} .disconnect-form input", "maintenance window");
        await page.ClickAsync($"{row} button.confirm-disconnect");

        var closing = await client.Closing;
        Assert.Equal("disconnected_by_admin", closing.Code);
        Assert.Equal("maintenance window", closing.Reason);
        Assert.False(closing.Reconnect);
        await client.Closed;

        // Closed sessions leave the default view and show, inactive with their reason, under "closed".
        await page.WaitForAsync(row, state: "detached");
        await page.ClickAsync("#sessions-show-closed");
        await page.WaitForAsync(row + ".inactive", "disconnected_by_admin (maintenance window)");
        await page.AssertNoConsoleErrorsAsync();
    }

    [Fact]
    public async Task Refused_and_expired_tokens_show_a_clear_message()
    {
        using var server = new GatewayTestServer();
        await using var page = await browser.OpenPageAsync();
        await page.GotoAsync(server.BaseAddress);

        await page.FillAsync("#token", "not-a-token");
        await page.ClickAsync("#sign-in-button");
        await page.WaitForAsync("#sign-in-error", "refused this token (401)");

        await page.FillAsync("#token", Tokens.Expired("alice", "admin"));
        await page.ClickAsync("#sign-in-button");
        await page.WaitForAsync("#sign-in-error", "expired at");
        Assert.True(await page.EvaluateAsync<bool>("document.getElementById('dashboard').hidden"));
        Assert.Null(await page.EvaluateAsync<string?>("sessionStorage.getItem('gateway.token')"));

        // A valid token whose role may not follow every event: signed in, told why nothing arrives.
        await page.FillAsync("#token", GatewayTestServer.Token("an-agent", "agent"));
        await page.ClickAsync("#sign-in-button");
        await page.WaitForAsync("#notice", "needs the admin or dashboard role");
        await page.WaitForAsync("#connection[data-state='disconnected']");

        // The only errors are Chromium's own notes of the two 401 answers.
        await page.AssertNoConsoleErrorsAsync(m => m.Text.Contains("status of 401", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_token_that_expires_while_signed_in_signs_out_with_a_message()
    {
        using var server = new GatewayTestServer();
        await using var page = await browser.OpenPageAsync();
        await page.SignInAsync(server.BaseAddress, GatewayTestServer.Token("viewer", TimeSpan.FromSeconds(4), "dashboard"));
        // The dashboard role reads and follows, but sessions and node statistics are for admins.
        Assert.True(await page.EvaluateAsync<bool>("document.getElementById('sessions').hidden"));
        Assert.True(await page.EvaluateAsync<bool>("document.getElementById('chart-connections').hidden"));
        var task = await server.As("orchestrator", "admin").CreateTaskAsync("seen by a dashboard user");
        await page.WaitForAsync(DashboardSteps.Card(task, "pending"));

        await page.WaitForAsync("#sign-in-error", "Your token expired", TimeSpan.FromSeconds(15));
        Assert.True(await page.EvaluateAsync<bool>("document.getElementById('dashboard').hidden"));
        Assert.Null(await page.EvaluateAsync<string?>("sessionStorage.getItem('gateway.token')"));
        await page.AssertNoConsoleErrorsAsync();
    }

    [Fact]
    public async Task A_narrow_window_has_no_horizontal_overflow()
    {
        using var server = new GatewayTestServer();
        var orchestrator = server.As("orchestrator", "admin");
        await using var client = server.CreateClient(GatewayTestServer.Token("an-agent-with-a-rather-long-user-name", "agent"), clientId: new string('c', 100));
        await client.StartAsync();
        var task = await orchestrator.CreateTaskAsync("A task title long enough to wrap on a phone, with a path/that/does/not/break/easily/anywhere", "index");

        await using var page = await browser.OpenPageAsync(width: 400, height: 800);
        await page.SignInAsync(server.BaseAddress, GatewayTestServer.Token("alice", "admin"));
        await page.WaitForAsync(DashboardSteps.Card(task, "pending"));
        await orchestrator.ChangeStatusAsync(task, "running");
        await page.WaitForAsync("#event-rows li[data-type='task.status']");

        var widths = await page.EvaluateAsync<int[]>("[document.documentElement.scrollWidth, document.documentElement.clientWidth]");
        Assert.True(widths[0] <= widths[1], $"the page is {widths[0]} px wide in a {widths[1]} px window");
        await Screenshots.SaveAsync(page, "dashboard-narrow.png", updateDocs: false);
        await page.AssertNoConsoleErrorsAsync();
    }

    [Fact]
    public async Task On_a_database_whose_orchestrator_owns_its_schema_the_board_has_only_its_statuses_and_a_finished_run_stays_active()
    {
        using var owned = await OrchestratorOwnedDatabase.CreateAsync();
        using var server = new GatewayTestServer(new Dictionary<string, string?> { ["Migrations:Orchestrator"] = "external" }, owned.Database);
        var orchestrator = server.As("orchestrator", "admin");
        await using var page = await browser.OpenPageAsync();
        await page.SignInAsync(server.BaseAddress, GatewayTestServer.Token("alice", "admin"));

        var task = await orchestrator.CreateTaskAsync("Index the repository", "index");
        await page.WaitForAsync(DashboardSteps.Card(task, "pending"));
        Assert.Equal(
            ["pending", "running", "completed", "failed", "cancelled"],
            await page.EvaluateAsync<string[]>("[...document.querySelectorAll('#board .column')].map(c => c.dataset.status)"));

        var workflow = (await orchestrator.PostAsync("/api/workflows", new { name = "Release 1.5", definition = new { steps = 1 } })).GetProperty("id").GetString()!;
        await orchestrator.PostAsync($"/api/workflows/{workflow}/tasks", new { taskId = task });
        await orchestrator.PostAsync($"/api/workflows/{workflow}/status", new { status = "active" });
        await orchestrator.ChangeStatusAsync(task, "running");
        await orchestrator.ChangeStatusAsync(task, "completed");
        await page.WaitForAsync($"#workflow-list li[data-workflow-id='{workflow}'][data-status='active'] .outcome[data-outcome='completed']", "run completed");

        // After a reload the outcome is read from the workflow's progress.
        await page.GotoAsync(server.BaseAddress);
        await page.WaitForAsync($"#workflow-list li[data-workflow-id='{workflow}'][data-status='active']", "1/1 tasks");
        await page.WaitForAsync($"#workflow-list li[data-workflow-id='{workflow}'] .outcome[data-outcome='completed']", "run completed");
        await page.AssertNoConsoleErrorsAsync();
    }

    /// <summary>As the page formats a duration (dom.js).</summary>
    private static string DurationText(long ms) =>
        ms < 1000 ? $"{ms} ms" : ms < 60000 ? (ms / 1000.0).ToString("0.0", CultureInfo.InvariantCulture) + " s" : throw new InvalidOperationException("unexpectedly slow");
}
