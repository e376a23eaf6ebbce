using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Gateway.Contracts;
using Gateway.Testing;

namespace Gateway.Server.Tests.Orchestration;

/// <summary>Tool executions over REST: every endpoint, the gateway's own timestamps, the state machine, the output cap, bad input.</summary>
[Trait(TestProviders.Trait, TestProviders.Both)]
public sealed class ToolExecutionsApiTests : IDisposable
{
    private const int OneMiB = 1024 * 1024;
    private static readonly string[] MakeArgs = ["all"];

    private readonly GatewayTestServer _server = new();

    private HttpClient Agent => _server.As("agent-1", GatewayRoles.Agent);
    private HttpClient Dashboard => _server.As("viewer", GatewayRoles.Dashboard);
    private HttpClient Admin => _server.As("root", GatewayRoles.Admin);

    public void Dispose() => _server.Dispose();

    private async Task<string> TaskAsync(string title = "build") => (await TasksApiTests.CreateAsync(Agent, title)).GetProperty("id").GetString()!;

    private Task<HttpResponseMessage> StartAsync(string taskId, object body, HttpClient? client = null) =>
        (client ?? Agent).PostAsJsonAsync(new Uri($"/api/tasks/{taskId}/tool-executions", UriKind.Relative), body);

    private async Task<JsonElement> StartedAsync(string taskId, string tool = "shell")
    {
        using var response = await StartAsync(taskId, new { toolName = tool, arguments = new { command = "make", args = MakeArgs } });
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Created, $"{response.StatusCode}: {text}");
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    private async Task<string> StartedIdAsync(string taskId, string tool = "shell") => (await StartedAsync(taskId, tool)).GetProperty("id").GetString()!;

    private Task<HttpResponseMessage> PostAsync(string path, object? body, HttpClient? client = null) =>
        body is null
            ? (client ?? Agent).PostAsync(new Uri(path, UriKind.Relative), null)
            : (client ?? Agent).PostAsJsonAsync(new Uri(path, UriKind.Relative), body);

    private static async Task<JsonElement> OkJsonAsync(Task<HttpResponseMessage> call)
    {
        using var response = await call;
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{response.StatusCode}: {text}");
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    private long Events(string executionId, string? type = null) => _server.Store.QueryLong(
        $"SELECT COUNT(*) FROM gateway_events WHERE execution_id = '{executionId}'" + (type is null ? string.Empty : $" AND event_type = '{type}'"));

    private List<JsonElement> Payloads(string executionId, string type) =>
        _server.Store.QueryStrings($"SELECT payload FROM gateway_events WHERE execution_id = '{executionId}' AND event_type = '{type}' ORDER BY id")
            .Select(p => JsonDocument.Parse(p).RootElement.Clone()).ToList();

    /// <summary>Every column of the row, to prove a refused change left it alone.</summary>
    private static readonly string[] RowColumns = ["status", "output", "error", "started_at", "completed_at", "duration_ms"];

    private string Row(string id) => string.Join("|", RowColumns
        .Select(column => _server.Store.QueryString($"SELECT {column} FROM tool_executions WHERE id = '{id}'") ?? ""));

    private static DateTime Stored(string text) => DateTime.Parse(text, CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal);

    [Fact]
    public async Task Start_records_a_running_execution_with_the_gateways_start_time_and_tool_started()
    {
        var task = await TaskAsync();
        var before = DateTime.UtcNow.AddSeconds(-1);

        using var response = await StartAsync(task, new
        {
            toolName = "shell",
            arguments = new { command = "ls" },
            status = "completed",
            startedAt = "1999-01-01T00:00:00Z",
            completedAt = "1999-01-01T00:00:01Z",
            durationMs = 5,
        });
        var execution = await response.Content.ReadFromJsonAsync<JsonElement>();
        var id = execution.GetProperty("id").GetString()!;

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        Assert.Equal($"/api/tool-executions/{id}", response.Headers.Location?.OriginalString);
        Assert.Equal("running", execution.GetProperty("status").GetString());
        Assert.Equal(task, execution.GetProperty("taskId").GetString());
        Assert.Equal("ls", execution.GetProperty("arguments").GetProperty("command").GetString());
        Assert.InRange(execution.GetProperty("startedAt").GetDateTime(), before, DateTime.UtcNow.AddSeconds(1));
        Assert.Equal(JsonValueKind.Null, execution.GetProperty("completedAt").ValueKind);
        Assert.Equal(JsonValueKind.Null, execution.GetProperty("durationMs").ValueKind);
        Assert.Equal("running|||" + _server.Store.QueryStrings($"SELECT started_at FROM tool_executions WHERE id = '{id}'").Single() + "||", Row(id));
        var started = Assert.Single(Payloads(id, EventTypes.ToolStarted));
        Assert.Equal(("shell", id), (started.GetProperty("tool_name").GetString(), started.GetProperty("execution_id").GetString()));
        Assert.Equal(1, _server.Store.QueryLong($"SELECT priority FROM gateway_events WHERE execution_id = '{id}' AND event_type = 'tool.started'"));
        Assert.Equal(1, _server.Store.QueryLong($"SELECT COUNT(*) FROM gateway_events WHERE task_id = '{task}' AND execution_id = '{id}'"));
    }

    [Fact]
    public async Task Output_is_appended_in_order_with_low_priority_tool_output_events()
    {
        var task = await TaskAsync();
        var id = await StartedIdAsync(task);

        using var first = await PostAsync($"/api/tool-executions/{id}/output", new { output = "compiling\n" });
        using var second = await PostAsync($"/api/tool-executions/{id}/output", new { output = "warning: x\n", isStderr = true });
        var execution = await Dashboard.GetFromJsonAsync<JsonElement>(new Uri($"/api/tool-executions/{id}", UriKind.Relative));

        Assert.Equal(HttpStatusCode.Accepted, first.StatusCode);
        Assert.Equal(HttpStatusCode.Accepted, second.StatusCode);
        Assert.Equal("compiling\nwarning: x\n", execution.GetProperty("output").GetString());
        var outputs = Payloads(id, EventTypes.ToolOutput);
        Assert.Equal([("compiling\n", false), ("warning: x\n", true)], outputs.Select(o => (o.GetProperty("output").GetString()!, o.GetProperty("is_stderr").GetBoolean())).ToArray());
        Assert.Equal(2, _server.Store.QueryLong($"SELECT COUNT(*) FROM gateway_events WHERE task_id = '{task}' AND execution_id = '{id}' AND event_type = 'tool.output' AND priority = 0"));
    }

    [Fact]
    public async Task Complete_sets_completed_at_and_duration_on_the_gateway_ignoring_caller_values()
    {
        var task = await TaskAsync();
        var id = await StartedIdAsync(task);
        await Task.Delay(30);

        var execution = await OkJsonAsync(PostAsync(
            $"/api/tool-executions/{id}/complete",
            new { exitCode = 0, durationMs = 999_999, completedAt = "1999-01-01T00:00:00Z", startedAt = "1999-01-01T00:00:00Z", status = "failed" }));

        var stored = Row(id).Split('|')[3..];
        var startedAt = Stored(stored[0]);
        var completedAt = Stored(stored[1]);
        Assert.Equal("completed", execution.GetProperty("status").GetString());
        Assert.True(startedAt > new DateTime(2020, 1, 1, 0, 0, 0, DateTimeKind.Utc));
        Assert.True(completedAt >= startedAt.AddMilliseconds(30));
        Assert.Equal((long)(completedAt - startedAt).TotalMilliseconds, long.Parse(stored[2], CultureInfo.InvariantCulture));
        Assert.Equal(long.Parse(stored[2], CultureInfo.InvariantCulture), execution.GetProperty("durationMs").GetInt64());
        Assert.InRange(execution.GetProperty("durationMs").GetInt64(), 30, 60_000);
        var completed = Assert.Single(Payloads(id, EventTypes.ToolCompleted));
        Assert.Equal(("completed", 0), (completed.GetProperty("status").GetString(), completed.GetProperty("exit_code").GetInt32()));
        Assert.Equal(1, _server.Store.QueryLong($"SELECT priority FROM gateway_events WHERE execution_id = '{id}' AND event_type = 'tool.completed'"));
        Assert.Equal(1, _server.Store.QueryLong($"SELECT COUNT(*) FROM gateway_events WHERE task_id = '{task}' AND execution_id = '{id}' AND event_type = 'tool.completed'"));
    }

    [Fact]
    public async Task Complete_without_a_body_has_no_exit_code()
    {
        var id = await StartedIdAsync(await TaskAsync());

        var execution = await OkJsonAsync(PostAsync($"/api/tool-executions/{id}/complete", null));

        Assert.Equal("completed", execution.GetProperty("status").GetString());
        Assert.Equal(JsonValueKind.Null, Assert.Single(Payloads(id, EventTypes.ToolCompleted)).GetProperty("exit_code").ValueKind);
    }

    [Fact]
    public async Task Fail_needs_an_error_stores_it_and_logs_a_high_priority_tool_failed()
    {
        var task = await TaskAsync();
        var id = await StartedIdAsync(task);

        using var noError = await PostAsync($"/api/tool-executions/{id}/fail", new { exitCode = 2 });
        var rowAfterRefusal = Row(id);
        var execution = await OkJsonAsync(PostAsync($"/api/tool-executions/{id}/fail", new { error = "exit status 2", exitCode = 2, durationMs = 1 }));

        Assert.Equal(HttpStatusCode.BadRequest, noError.StatusCode);
        Assert.Contains("$.error", await noError.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.StartsWith("running|", rowAfterRefusal, StringComparison.Ordinal);
        Assert.Equal("failed", execution.GetProperty("status").GetString());
        Assert.Equal("exit status 2", execution.GetProperty("error").GetString());
        Assert.NotEqual(JsonValueKind.Null, execution.GetProperty("completedAt").ValueKind);
        Assert.True(execution.GetProperty("durationMs").GetInt64() >= 0);
        var failed = Assert.Single(Payloads(id, EventTypes.ToolFailed));
        Assert.Equal(("exit status 2", 2), (failed.GetProperty("error").GetString(), failed.GetProperty("exit_code").GetInt32()));
        Assert.Equal(2, _server.Store.QueryLong($"SELECT priority FROM gateway_events WHERE execution_id = '{id}' AND event_type = 'tool.failed'"));
        Assert.Equal(1, _server.Store.QueryLong($"SELECT COUNT(*) FROM gateway_events WHERE task_id = '{task}' AND event_type = 'tool.failed'"));
    }

    [Fact]
    public async Task Timeout_ends_the_execution_with_tool_completed_status_timeout()
    {
        var id = await StartedIdAsync(await TaskAsync());

        var execution = await OkJsonAsync(PostAsync($"/api/tool-executions/{id}/timeout", null));

        Assert.Equal("timeout", execution.GetProperty("status").GetString());
        Assert.NotEqual(JsonValueKind.Null, execution.GetProperty("completedAt").ValueKind);
        Assert.NotEqual(JsonValueKind.Null, execution.GetProperty("durationMs").ValueKind);
        Assert.Equal("timeout", Assert.Single(Payloads(id, EventTypes.ToolCompleted)).GetProperty("status").GetString());
        Assert.Equal(0, Events(id, EventTypes.ToolFailed));
    }

    [Theory]
    [InlineData("complete")]
    [InlineData("fail")]
    [InlineData("timeout")]
    public async Task An_ended_execution_is_final_every_further_change_is_a_409_that_changes_nothing(string ending)
    {
        var id = await StartedIdAsync(await TaskAsync());
        await OkJsonAsync(PostAsync($"/api/tool-executions/{id}/{ending}", new { error = "boom" }));
        var rowBefore = Row(id);
        var eventsBefore = Events(id);

        foreach (var (path, body) in new (string, object)[]
        {
            ("complete", new { exitCode = 1 }),
            ("fail", new { error = "again" }),
            ("timeout", new { }),
            ("output", new { output = "late" }),
        })
        {
            using var response = await PostAsync($"/api/tool-executions/{id}/{path}", body);
            var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
            Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
            Assert.Equal("conflict", problem.GetProperty("code").GetString());
        }

        Assert.Equal(rowBefore, Row(id));
        Assert.Equal(eventsBefore, Events(id));
    }

    [Theory]
    [InlineData("completed")]
    [InlineData("cancelled")]
    public async Task Tools_do_not_start_for_a_completed_or_cancelled_task(string final)
    {
        var task = await TaskAsync();
        if (final == "completed")
        {
            (await TasksApiTests.ChangeStatusAsync(Agent, task, new { status = "running" })).Dispose();
        }

        (await TasksApiTests.ChangeStatusAsync(Agent, task, new { status = final })).Dispose();

        using var response = await StartAsync(task, new { toolName = "shell", arguments = new { } });

        Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
        Assert.Contains(final, await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(0, _server.Store.QueryLong("SELECT COUNT(*) FROM tool_executions"));
        Assert.Equal(0, _server.Store.QueryLong("SELECT COUNT(*) FROM gateway_events WHERE event_type LIKE 'tool.%'"));
    }

    [Fact]
    public async Task Tools_start_for_a_failed_task_which_may_still_be_retried()
    {
        var task = await TaskAsync();
        (await TasksApiTests.ChangeStatusAsync(Agent, task, new { status = "running" })).Dispose();
        (await TasksApiTests.ChangeStatusAsync(Agent, task, new { status = "failed", error = "x" })).Dispose();

        Assert.Equal("running", (await StartedAsync(task)).GetProperty("status").GetString());
    }

    [Theory]
    [InlineData("{\"toolName\": \"shell\", \"arguments\": {\"a\": }", "Malformed JSON")]
    [InlineData("{\"toolName\": 5, \"arguments\": {}}", "$.toolName")]
    [InlineData("{\"arguments\": {}}", "$.toolName")]
    [InlineData("{\"toolName\": \"shell\"}", "$.arguments")]
    [InlineData("{\"toolName\": \"shell\", \"arguments\": null}", "$.arguments")]
    [InlineData("{\"toolName\": \"shell\", \"arguments\": [\"-la\"]}", "$.arguments")]
    [InlineData("{\"toolName\": \"shell\", \"arguments\": \"-la\"}", "$.arguments")]
    [InlineData("{\"toolName\": \"shell\", \"arguments\": 3}", "$.arguments")]
    public async Task Bad_start_bodies_are_400_problems_with_the_path_and_start_nothing(string body, string expected)
    {
        var task = await TaskAsync();
        using var content = new StringContent(body, Encoding.UTF8, "application/json");
        using var response = await Agent.PostAsync(new Uri($"/api/tasks/{task}/tool-executions", UriKind.Relative), content);
        var text = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains(expected, text, StringComparison.Ordinal);
        Assert.Equal(0, _server.Store.QueryLong("SELECT COUNT(*) FROM tool_executions"));
    }

    [Theory]
    [InlineData("output", "{\"output\": 5}", "$.output")]
    [InlineData("output", "{\"output\": \"\"}", "$.output")]
    [InlineData("output", "{\"isStderr\": true}", "$.output")]
    [InlineData("output", "{\"output\": \"x\", \"isStderr\": \"yes\"}", "$.isStderr")]
    [InlineData("complete", "{\"exitCode\": \"zero\"}", "$.exitCode")]
    [InlineData("complete", "{\"exitCode\": 1.5}", "$.exitCode")]
    [InlineData("fail", "{\"error\": \"\"}", "$.error")]
    [InlineData("fail", "{\"error\": [\"x\"]}", "$.error")]
    [InlineData("fail", "{\"error\": \"x\", \"exitCode\": true}", "$.exitCode")]
    public async Task Bad_change_bodies_are_400_with_the_path_and_change_nothing(string path, string body, string expected)
    {
        var id = await StartedIdAsync(await TaskAsync());
        var rowBefore = Row(id);
        var eventsBefore = Events(id);
        using var content = new StringContent(body, Encoding.UTF8, "application/json");

        using var response = await Agent.PostAsync(new Uri($"/api/tool-executions/{id}/{path}", UriKind.Relative), content);
        var text = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains(expected, text, StringComparison.Ordinal);
        Assert.Equal(rowBefore, Row(id));
        Assert.Equal(eventsBefore, Events(id));
    }

    [Fact]
    public async Task Output_is_capped_at_one_MiB_a_chunk_past_it_is_refused_whole_and_the_execution_can_still_end()
    {
        var id = await StartedIdAsync(await TaskAsync());
        var big = new string('a', OneMiB - 10);

        using var fits = await PostAsync($"/api/tool-executions/{id}/output", new { output = big });
        using var exact = await PostAsync($"/api/tool-executions/{id}/output", new { output = "0123456789" });
        using var over = await PostAsync($"/api/tool-executions/{id}/output", new { output = "é" });
        var overText = await over.Content.ReadAsStringAsync();
        using var tooBigAlone = await PostAsync($"/api/tool-executions/{id}/output", new { output = new string('b', OneMiB + 1) });
        var completed = await OkJsonAsync(PostAsync($"/api/tool-executions/{id}/complete", new { exitCode = 0 }));

        Assert.Equal(HttpStatusCode.Accepted, fits.StatusCode);
        Assert.Equal(HttpStatusCode.Accepted, exact.StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, over.StatusCode);
        Assert.Contains("output limit reached", overText, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.BadRequest, tooBigAlone.StatusCode);
        Assert.Equal(OneMiB, _server.Store.QueryLong($"SELECT {(_server.Store.IsPostgres ? "octet_length(output)" : "length(CAST(output AS BLOB))")} FROM tool_executions WHERE id = '{id}'"));
        Assert.Equal(big + "0123456789", completed.GetProperty("output").GetString());
        Assert.Equal(2, Events(id, EventTypes.ToolOutput));
    }

    [Fact]
    public async Task A_tasks_executions_are_listed_oldest_first()
    {
        var task = await TaskAsync();
        var other = await TaskAsync("other");
        var first = await StartedIdAsync(task, "git");
        await StartedIdAsync(other, "npm");
        var second = await StartedIdAsync(task, "shell");

        var list = await Dashboard.GetFromJsonAsync<JsonElement>(new Uri($"/api/tasks/{task}/tool-executions", UriKind.Relative));
        var empty = await Dashboard.GetFromJsonAsync<JsonElement>(new Uri($"/api/tasks/{await TaskAsync("none")}/tool-executions", UriKind.Relative));

        Assert.Equal([first, second], list.EnumerateArray().Select(e => e.GetProperty("id").GetString()!).ToArray());
        Assert.Equal(["git", "shell"], list.EnumerateArray().Select(e => e.GetProperty("toolName").GetString()!).ToArray());
        Assert.Equal(JsonValueKind.Object, list[0].GetProperty("arguments").ValueKind);
        Assert.Equal(0, empty.GetArrayLength());
    }

    [Fact]
    public async Task Arguments_that_the_orchestrator_stored_as_non_JSON_text_are_returned_as_a_string()
    {
        var task = await TaskAsync();
        _server.Store.Execute($"INSERT INTO tool_executions (id, task_id, tool_name, arguments, status) VALUES ('legacy', '{task}', 'shell', 'ls -la', 'pending')");

        var execution = await Dashboard.GetFromJsonAsync<JsonElement>(new Uri("/api/tool-executions/legacy", UriKind.Relative));
        using var complete = await PostAsync("/api/tool-executions/legacy/complete", new { });

        Assert.Equal("ls -la", execution.GetProperty("arguments").GetString());
        Assert.Equal("pending", execution.GetProperty("status").GetString());
        Assert.Equal(HttpStatusCode.Conflict, complete.StatusCode);
        Assert.Contains("cannot go from pending to completed; allowed: running", await complete.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Unknown_ids_are_404_everywhere()
    {
        using var start = await StartAsync("nope", new { toolName = "shell", arguments = new { } });
        using var list = await Agent.GetAsync(new Uri("/api/tasks/nope/tool-executions", UriKind.Relative));
        using var get = await Agent.GetAsync(new Uri("/api/tool-executions/nope", UriKind.Relative));
        using var output = await PostAsync("/api/tool-executions/nope/output", new { output = "x" });
        using var complete = await PostAsync("/api/tool-executions/nope/complete", new { exitCode = 0 });
        using var fail = await PostAsync("/api/tool-executions/nope/fail", new { error = "x" });
        using var timeout = await PostAsync("/api/tool-executions/nope/timeout", null);

        Assert.All([start, list, get, output, complete, fail, timeout], r => Assert.Equal(HttpStatusCode.NotFound, r.StatusCode));
        Assert.All([start, list, get, output, complete, fail, timeout], r => Assert.Equal("application/problem+json", r.Content.Headers.ContentType?.MediaType));
    }

    [Fact]
    public async Task Dashboards_read_but_do_not_record_executions_and_admins_do()
    {
        var task = await TaskAsync();
        var id = await StartedIdAsync(task);

        using var start = await StartAsync(task, new { toolName = "shell", arguments = new { } }, Dashboard);
        using var output = await PostAsync($"/api/tool-executions/{id}/output", new { output = "x" }, Dashboard);
        using var complete = await PostAsync($"/api/tool-executions/{id}/complete", new { }, Dashboard);
        using var fail = await PostAsync($"/api/tool-executions/{id}/fail", new { error = "x" }, Dashboard);
        using var timeout = await PostAsync($"/api/tool-executions/{id}/timeout", null, Dashboard);
        using var read = await Dashboard.GetAsync(new Uri($"/api/tool-executions/{id}", UriKind.Relative));
        using var adminOutput = await PostAsync($"/api/tool-executions/{id}/output", new { output = "y" }, Admin);
        using var anonymous = new HttpClient { BaseAddress = _server.BaseAddress };
        using var noToken = await anonymous.GetAsync(new Uri($"/api/tool-executions/{id}", UriKind.Relative));

        Assert.All([start, output, complete, fail, timeout], r => Assert.Equal(HttpStatusCode.Forbidden, r.StatusCode));
        Assert.Equal(HttpStatusCode.OK, read.StatusCode);
        Assert.Equal(HttpStatusCode.Accepted, adminOutput.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, noToken.StatusCode);
        Assert.Equal("running|y", string.Join("|", Row(id).Split('|').Take(2)));
    }
}
