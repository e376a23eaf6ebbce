using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Gateway.Contracts;
using Gateway.Testing;

namespace Gateway.Server.Tests.Orchestration;

/// <summary>Workflows over REST: every endpoint, the state machine, task lists, derived progress, bad input; a real server and file.</summary>
[Trait(TestProviders.Trait, TestProviders.Both)]
public sealed class WorkflowsApiTests : IDisposable
{
    private static readonly string[] Steps = ["build", "test"];

    private readonly GatewayTestServer _server = new();

    private HttpClient Agent => _server.As("agent-1", GatewayRoles.Agent);
    private HttpClient OtherAgent => _server.As("agent-2", GatewayRoles.Agent);
    private HttpClient Dashboard => _server.As("viewer", GatewayRoles.Dashboard);
    private HttpClient Admin => _server.As("root", GatewayRoles.Admin);

    public void Dispose() => _server.Dispose();

    internal static async Task<JsonElement> CreateAsync(HttpClient client, string name = "Release")
    {
        using var response = await client.PostAsJsonAsync(
            new Uri("/api/workflows", UriKind.Relative),
            new { name, description = "ship it", definition = new { steps = Steps, retries = 2 } });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }

    private async Task<string> CreateIdAsync(string name = "Release") => (await CreateAsync(Agent, name)).GetProperty("id").GetString()!;

    private async Task<string> TaskAsync(string title = "step") => (await TasksApiTests.CreateAsync(Agent, title)).GetProperty("id").GetString()!;

    private Task<HttpResponseMessage> StatusAsync(string id, object body, HttpClient? client = null) =>
        (client ?? Agent).PostAsJsonAsync(new Uri($"/api/workflows/{id}/status", UriKind.Relative), body);

    private Task<HttpResponseMessage> AddAsync(string id, object body) =>
        Agent.PostAsJsonAsync(new Uri($"/api/workflows/{id}/tasks", UriKind.Relative), body);

    private Task<HttpResponseMessage> ReorderAsync(string id, object body) =>
        Agent.PutAsJsonAsync(new Uri($"/api/workflows/{id}/tasks", UriKind.Relative), body);

    private static async Task<JsonElement> OkJsonAsync(Task<HttpResponseMessage> call)
    {
        using var response = await call;
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{response.StatusCode}: {text}");
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    private async Task<JsonElement> GetAsync(string id) => await Dashboard.GetFromJsonAsync<JsonElement>(new Uri($"/api/workflows/{id}", UriKind.Relative));

    private static string[] TaskIds(JsonElement workflow) =>
        workflow.GetProperty("tasks").EnumerateArray().Select(t => t.GetProperty("taskId").GetString()!).ToArray();

    private long Events(string workflowId, string? type = null) => _server.Store.QueryLong(
        $"SELECT COUNT(*) FROM gateway_events WHERE workflow_id = '{workflowId}'" + (type is null ? string.Empty : $" AND event_type = '{type}'"));

    /// <summary>The payloads of a workflow's events of one type, oldest first.</summary>
    private List<JsonElement> Payloads(string workflowId, string type) =>
        _server.Store.QueryStrings($"SELECT payload FROM gateway_events WHERE workflow_id = '{workflowId}' AND event_type = '{type}' ORDER BY id")
            .Select(p => JsonDocument.Parse(p).RootElement.Clone()).ToList();

    private string Row(string id) => string.Join("|", _server.Store.QueryStrings($"SELECT status || '|' || updated_at FROM workflows WHERE id = '{id}'"));

    private string Sequences(string id) =>
        string.Join(",", _server.Store.QueryStrings($"SELECT task_id || ':' || sequence FROM workflow_tasks WHERE workflow_id = '{id}' ORDER BY sequence, task_id"));

    [Fact]
    public async Task Create_get_and_the_created_event_are_one_change()
    {
        var created = await CreateAsync(Agent);
        var id = created.GetProperty("id").GetString()!;

        var fetched = await GetAsync(id);

        Assert.Equal("draft", fetched.GetProperty("status").GetString());
        Assert.Equal("ship it", fetched.GetProperty("description").GetString());
        Assert.Equal(JsonValueKind.Object, fetched.GetProperty("definition").ValueKind);
        Assert.Equal(2, fetched.GetProperty("definition").GetProperty("retries").GetInt32());
        Assert.Equal("build", fetched.GetProperty("definition").GetProperty("steps")[0].GetString());
        Assert.Empty(TaskIds(fetched));
        Assert.Equal(0, fetched.GetProperty("progress").GetProperty("total").GetInt32());
        Assert.Equal(1, Events(id, EventTypes.WorkflowCreated));
        Assert.Equal("{\"steps\":[\"build\",\"test\"],\"retries\":2}", _server.Store.QueryStrings($"SELECT definition FROM workflows WHERE id = '{id}'").Single());
    }

    [Theory]
    [InlineData("{\"name\": \"w\", \"definition\": {\"a\": }", "Malformed JSON")]
    [InlineData("{\"name\": 5, \"definition\": {}}", "$.name")]
    [InlineData("{\"definition\": {}}", "$.name")]
    [InlineData("{\"name\": \"w\"}", "$.definition")]
    [InlineData("{\"name\": \"w\", \"definition\": null}", "$.definition")]
    [InlineData("{\"name\": \"w\", \"definition\": [1, 2]}", "$.definition")]
    [InlineData("{\"name\": \"w\", \"definition\": \"text\"}", "$.definition")]
    [InlineData("{\"name\": \"w\", \"definition\": {}, \"description\": false}", "$.description")]
    public async Task Bad_bodies_are_400_problems_with_the_path_and_create_nothing(string body, string expected)
    {
        using var content = new StringContent(body, Encoding.UTF8, "application/json");
        using var response = await Agent.PostAsync(new Uri("/api/workflows", UriKind.Relative), content);
        var text = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains(expected, text, StringComparison.Ordinal);
        Assert.Equal(0, _server.Store.QueryLong("SELECT COUNT(*) FROM workflows"));
        Assert.Equal(0, _server.Store.QueryLong("SELECT COUNT(*) FROM gateway_events"));
    }

    [Fact]
    public async Task A_workflow_moves_through_its_state_machine_with_workflow_status_events()
    {
        var id = await CreateIdAsync();

        foreach (var (status, previous) in new[] { ("active", "draft"), ("paused", "active"), ("active", "paused"), ("cancelled", "active"), ("archived", "cancelled") })
        {
            var workflow = await OkJsonAsync(StatusAsync(id, new { status }));
            Assert.Equal(status, workflow.GetProperty("status").GetString());
            var logged = Payloads(id, EventTypes.WorkflowStatus)[^1];
            Assert.Equal((status, previous, id), (logged.GetProperty("status").GetString(), logged.GetProperty("previous_status").GetString(), logged.GetProperty("workflow_id").GetString()));
            Assert.True(logged.TryGetProperty("timestamp", out _));
        }

        Assert.Equal(5, Events(id, EventTypes.WorkflowStatus));
        Assert.Equal("archived", (await GetAsync(id)).GetProperty("status").GetString());
    }

    [Fact]
    public async Task Completing_or_failing_by_hand_emits_workflow_completed_or_failed_and_failed_needs_an_error()
    {
        var done = await CreateIdAsync("done");
        var broken = await CreateIdAsync("broken");
        (await StatusAsync(done, new { status = "active" })).Dispose();
        (await StatusAsync(broken, new { status = "active" })).Dispose();

        using var noError = await StatusAsync(broken, new { status = "failed" });
        await OkJsonAsync(StatusAsync(done, new { status = "completed" }));
        var failed = await OkJsonAsync(StatusAsync(broken, new { status = "failed", error = "the build server is gone" }));

        Assert.Equal(HttpStatusCode.BadRequest, noError.StatusCode);
        Assert.Contains("$.error", await noError.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal("failed", failed.GetProperty("status").GetString());
        Assert.Equal(1, Events(done, EventTypes.WorkflowCompleted));
        Assert.Equal(0, Events(done, EventTypes.WorkflowFailed));
        var failure = Assert.Single(Payloads(broken, EventTypes.WorkflowFailed));
        Assert.Equal("the build server is gone", failure.GetProperty("error").GetString());
        Assert.Equal(2, _server.Store.QueryLong($"SELECT priority FROM gateway_events WHERE workflow_id = '{broken}' AND event_type = 'workflow.failed'"));
    }

    [Theory]
    [InlineData(new string[0], "paused")]
    [InlineData(new string[0], "completed")]
    [InlineData(new string[0], "draft")]
    [InlineData(new[] { "active" }, "draft")]
    [InlineData(new[] { "active" }, "archived")]
    [InlineData(new[] { "active", "paused" }, "completed")]
    [InlineData(new[] { "active", "completed" }, "active")]
    [InlineData(new[] { "archived" }, "active")]
    [InlineData(new[] { "archived" }, "archived")]
    public async Task An_illegal_transition_is_a_409_and_changes_nothing(string[] path, string target)
    {
        var id = await CreateIdAsync();
        foreach (var step in path)
        {
            await OkJsonAsync(StatusAsync(id, new { status = step }));
        }

        var rowBefore = Row(id);
        var eventsBefore = Events(id);

        using var response = await StatusAsync(id, new { status = target, error = "x" });
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();

        Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
        Assert.Equal("conflict", problem.GetProperty("code").GetString());
        Assert.Contains("cannot go from", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal(rowBefore, Row(id));
        Assert.Equal(eventsBefore, Events(id));
    }

    [Fact]
    public async Task Expected_status_makes_a_status_change_a_compare_and_set()
    {
        var id = await CreateIdAsync();
        using var first = await StatusAsync(id, new { status = "active", expectedStatus = "draft" });
        using var second = await StatusAsync(id, new { status = "archived", expectedStatus = "draft" });

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, second.StatusCode);
    }

    [Fact]
    public async Task Bad_status_values_are_400()
    {
        var id = await CreateIdAsync();
        using var unknown = await StatusAsync(id, new { status = "exploded" });
        using var missing = await StatusAsync(id, new { expectedStatus = "draft" });
        using var badExpected = await StatusAsync(id, new { status = "active", expectedStatus = "DRAFT" });
        using var wrongType = await StatusAsync(id, new { status = 3 });

        Assert.All([unknown, missing, badExpected, wrongType], r => Assert.Equal(HttpStatusCode.BadRequest, r.StatusCode));
        Assert.Contains("$.expectedStatus", await badExpected.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Contains("$.status", await wrongType.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal("draft", (await GetAsync(id)).GetProperty("status").GetString());
    }

    [Fact]
    public async Task Tasks_are_appended_or_inserted_and_numbered_from_0_with_tasks_changed_then_progress()
    {
        var id = await CreateIdAsync();
        var a = await TaskAsync("a");
        var b = await TaskAsync("b");
        var c = await TaskAsync("c");

        await OkJsonAsync(AddAsync(id, new { taskId = a }));
        await OkJsonAsync(AddAsync(id, new { taskId = b }));
        var workflow = await OkJsonAsync(AddAsync(id, new { taskId = c, sequence = 0 }));

        Assert.Equal([c, a, b], TaskIds(workflow));
        Assert.Equal([0, 1, 2], workflow.GetProperty("tasks").EnumerateArray().Select(t => t.GetProperty("sequence").GetInt32()).ToArray());
        Assert.Equal(["c", "a", "b"], workflow.GetProperty("tasks").EnumerateArray().Select(t => t.GetProperty("title").GetString()!).ToArray());
        Assert.Equal("pending", workflow.GetProperty("tasks")[0].GetProperty("status").GetString());
        Assert.Equal($"{c}:0,{a}:1,{b}:2", Sequences(id));
        Assert.Equal([c, a, b], TaskIds(await GetAsync(id)));

        var changes = Payloads(id, EventTypes.WorkflowTasksChanged);
        Assert.Equal(3, changes.Count);
        Assert.Equal([c, a, b], changes[^1].GetProperty("task_ids").EnumerateArray().Select(e => e.GetString()!).ToArray());
        var progress = Payloads(id, EventTypes.WorkflowProgress);
        Assert.Equal(3, progress.Count);
        Assert.Equal(3, progress[^1].GetProperty("total").GetInt32());
        Assert.Equal(c, progress[^1].GetProperty("current_task").GetString());
        // Each task list change logs tasks_changed first, then progress, in the same change.
        var order = _server.Store.QueryStrings($"SELECT event_type FROM gateway_events WHERE workflow_id = '{id}' ORDER BY id");
        string[] expected =
        [
            EventTypes.WorkflowCreated,
            EventTypes.WorkflowTasksChanged, EventTypes.WorkflowProgress,
            EventTypes.WorkflowTasksChanged, EventTypes.WorkflowProgress,
            EventTypes.WorkflowTasksChanged, EventTypes.WorkflowProgress,
        ];
        Assert.Equal(expected, order.ToArray());
    }

    [Fact]
    public async Task Adding_is_refused_for_unknown_ids_duplicates_and_positions_out_of_range()
    {
        var id = await CreateIdAsync();
        var a = await TaskAsync();
        await OkJsonAsync(AddAsync(id, new { taskId = a }));
        var b = await TaskAsync();
        var eventsBefore = Events(id);

        using var unknownTask = await AddAsync(id, new { taskId = "nope" });
        using var unknownWorkflow = await AddAsync("nope", new { taskId = b });
        using var duplicate = await AddAsync(id, new { taskId = a });
        using var tooFar = await AddAsync(id, new { taskId = b, sequence = 2 });
        using var negative = await AddAsync(id, new { taskId = b, sequence = -1 });
        using var noTask = await AddAsync(id, new { sequence = 0 });
        using var wrongType = await AddAsync(id, new { taskId = b, sequence = "first" });

        Assert.Equal(HttpStatusCode.NotFound, unknownTask.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, unknownWorkflow.StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, duplicate.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, tooFar.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, negative.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, noTask.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, wrongType.StatusCode);
        Assert.Contains("$.sequence", await tooFar.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Contains("$.taskId", await noTask.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Contains("$.sequence", await wrongType.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal($"{a}:0", Sequences(id));
        Assert.Equal(eventsBefore, Events(id));
    }

    [Fact]
    public async Task Removing_renumbers_the_rest_and_an_unknown_link_is_404()
    {
        var id = await CreateIdAsync();
        var tasks = new[] { await TaskAsync("a"), await TaskAsync("b"), await TaskAsync("c") };
        foreach (var task in tasks)
        {
            await OkJsonAsync(AddAsync(id, new { taskId = task }));
        }

        var workflow = await OkJsonAsync(Agent.DeleteAsync(new Uri($"/api/workflows/{id}/tasks/{tasks[0]}", UriKind.Relative)));
        using var again = await Agent.DeleteAsync(new Uri($"/api/workflows/{id}/tasks/{tasks[0]}", UriKind.Relative));
        using var unknownWorkflow = await Agent.DeleteAsync(new Uri($"/api/workflows/nope/tasks/{tasks[1]}", UriKind.Relative));

        Assert.Equal([tasks[1], tasks[2]], TaskIds(workflow));
        Assert.Equal($"{tasks[1]}:0,{tasks[2]}:1", Sequences(id));
        Assert.Equal(HttpStatusCode.NotFound, again.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, unknownWorkflow.StatusCode);
        Assert.Equal(1, _server.Store.QueryLong($"SELECT COUNT(*) FROM tasks WHERE id = '{tasks[0]}'"));
        Assert.Equal([tasks[1], tasks[2]], Payloads(id, EventTypes.WorkflowTasksChanged)[^1].GetProperty("task_ids").EnumerateArray().Select(e => e.GetString()!).ToArray());
    }

    [Fact]
    public async Task Reorder_puts_the_tasks_in_the_given_order()
    {
        var id = await CreateIdAsync();
        var tasks = new[] { await TaskAsync("a"), await TaskAsync("b"), await TaskAsync("c") };
        foreach (var task in tasks)
        {
            await OkJsonAsync(AddAsync(id, new { taskId = task }));
        }

        var workflow = await OkJsonAsync(ReorderAsync(id, new { taskIds = new[] { tasks[2], tasks[0], tasks[1] } }));

        Assert.Equal([tasks[2], tasks[0], tasks[1]], TaskIds(workflow));
        Assert.Equal([tasks[2], tasks[0], tasks[1]], TaskIds(await GetAsync(id)));
        Assert.Equal(tasks[2], _server.Store.QueryStrings($"SELECT task_id FROM workflow_tasks WHERE workflow_id = '{id}' AND sequence = 0").Single());
        Assert.Equal([tasks[2], tasks[0], tasks[1]], Payloads(id, EventTypes.WorkflowTasksChanged)[^1].GetProperty("task_ids").EnumerateArray().Select(e => e.GetString()!).ToArray());
    }

    [Fact]
    public async Task Reorder_with_a_list_that_is_not_exactly_the_current_set_is_400_and_changes_nothing()
    {
        var id = await CreateIdAsync();
        var tasks = new[] { await TaskAsync("a"), await TaskAsync("b") };
        var outsider = await TaskAsync("c");
        foreach (var task in tasks)
        {
            await OkJsonAsync(AddAsync(id, new { taskId = task }));
        }

        var sequencesBefore = Sequences(id);
        var eventsBefore = Events(id);
        object[] bodies =
        [
            new { taskIds = new[] { tasks[1] } },
            new { taskIds = new[] { tasks[1], tasks[0], outsider } },
            new { taskIds = new[] { tasks[1], outsider } },
            new { taskIds = new[] { tasks[1], tasks[1], tasks[0] } },
            new { taskIds = Array.Empty<string>() },
            new { taskIds = (string[]?)null },
            new { other = 1 },
        ];

        foreach (var body in bodies)
        {
            using var response = await ReorderAsync(id, body);
            var text = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == HttpStatusCode.BadRequest, text);
            Assert.Contains("$.taskIds", text, StringComparison.Ordinal);
        }

        using var wrongType = await ReorderAsync(id, new { taskIds = "a,b" });
        using var unknown = await ReorderAsync("nope", new { taskIds = tasks });
        Assert.Equal(HttpStatusCode.BadRequest, wrongType.StatusCode);
        Assert.Contains("$.taskIds", await wrongType.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        Assert.Equal(sequencesBefore, Sequences(id));
        Assert.Equal(eventsBefore, Events(id));
    }

    [Theory]
    [InlineData("completed")]
    [InlineData("archived")]
    public async Task A_finished_or_archived_workflow_keeps_its_task_list(string final)
    {
        var id = await CreateIdAsync();
        var a = await TaskAsync();
        await OkJsonAsync(AddAsync(id, new { taskId = a }));
        await OkJsonAsync(StatusAsync(id, new { status = final == "archived" ? "archived" : "active" }));
        if (final == "completed")
        {
            await OkJsonAsync(StatusAsync(id, new { status = "completed" }));
        }

        var eventsBefore = Events(id);
        using var add = await AddAsync(id, new { taskId = await TaskAsync() });
        using var remove = await Agent.DeleteAsync(new Uri($"/api/workflows/{id}/tasks/{a}", UriKind.Relative));
        using var reorder = await ReorderAsync(id, new { taskIds = new[] { a } });

        Assert.All([add, remove, reorder], r => Assert.Equal(HttpStatusCode.Conflict, r.StatusCode));
        Assert.Equal($"{a}:0", Sequences(id));
        Assert.Equal(eventsBefore, Events(id));
    }

    [Fact]
    public async Task Completing_a_task_logs_workflow_progress_and_an_active_workflow_completes_when_all_its_tasks_do()
    {
        var id = await CreateIdAsync();
        var a = await TaskAsync("a");
        var b = await TaskAsync("b");
        await OkJsonAsync(AddAsync(id, new { taskId = a }));
        await OkJsonAsync(AddAsync(id, new { taskId = b }));
        await OkJsonAsync(StatusAsync(id, new { status = "active" }));
        var progressBefore = Events(id, EventTypes.WorkflowProgress);

        foreach (var status in new[] { "running", "completed" })
        {
            (await TasksApiTests.ChangeStatusAsync(Agent, a, new { status })).Dispose();
        }

        var half = Payloads(id, EventTypes.WorkflowProgress)[^1];
        var midway = await GetAsync(id);
        foreach (var status in new[] { "running", "completed" })
        {
            (await TasksApiTests.ChangeStatusAsync(Agent, b, new { status })).Dispose();
        }

        var done = await GetAsync(id);

        Assert.Equal(50, half.GetProperty("progress").GetInt32());
        Assert.Equal(b, half.GetProperty("current_task").GetString());
        Assert.Equal((1, 2, 50), (midway.GetProperty("progress").GetProperty("completed").GetInt32(), midway.GetProperty("progress").GetProperty("total").GetInt32(), midway.GetProperty("progress").GetProperty("percent").GetInt32()));
        Assert.Equal("active", midway.GetProperty("status").GetString());
        Assert.Equal(progressBefore + 4, Events(id, EventTypes.WorkflowProgress));
        Assert.Equal(100, Payloads(id, EventTypes.WorkflowProgress)[^1].GetProperty("progress").GetInt32());
        Assert.Equal("completed", done.GetProperty("status").GetString());
        Assert.Equal(100, done.GetProperty("progress").GetProperty("percent").GetInt32());
        Assert.Equal(1, Events(id, EventTypes.WorkflowCompleted));
        Assert.Equal("completed", _server.Store.QueryStrings($"SELECT status FROM workflows WHERE id = '{id}'").Single());
    }

    [Fact]
    public async Task An_active_workflow_fails_when_one_of_its_tasks_fails()
    {
        var id = await CreateIdAsync();
        var a = await TaskAsync("a");
        var b = await TaskAsync("b");
        await OkJsonAsync(AddAsync(id, new { taskId = a }));
        await OkJsonAsync(AddAsync(id, new { taskId = b }));
        await OkJsonAsync(StatusAsync(id, new { status = "active" }));

        (await TasksApiTests.ChangeStatusAsync(Agent, b, new { status = "running" })).Dispose();
        (await TasksApiTests.ChangeStatusAsync(Agent, b, new { status = "failed", error = "tests red" })).Dispose();

        Assert.Equal("failed", (await GetAsync(id)).GetProperty("status").GetString());
        var failure = Assert.Single(Payloads(id, EventTypes.WorkflowFailed));
        Assert.Contains(b, failure.GetProperty("error").GetString(), StringComparison.Ordinal);
        Assert.Equal(0, Events(id, EventTypes.WorkflowCompleted));
    }

    [Fact]
    public async Task A_draft_workflow_reports_progress_but_does_not_complete_by_itself()
    {
        var id = await CreateIdAsync();
        var a = await TaskAsync();
        await OkJsonAsync(AddAsync(id, new { taskId = a }));
        (await TasksApiTests.ChangeStatusAsync(Agent, a, new { status = "running" })).Dispose();
        (await TasksApiTests.ChangeStatusAsync(Agent, a, new { status = "completed" })).Dispose();

        Assert.Equal(100, Payloads(id, EventTypes.WorkflowProgress)[^1].GetProperty("progress").GetInt32());
        Assert.Equal("draft", (await GetAsync(id)).GetProperty("status").GetString());

        // Activating a workflow whose tasks are all done completes it at once.
        var activated = await OkJsonAsync(StatusAsync(id, new { status = "active" }));
        Assert.Equal("completed", activated.GetProperty("status").GetString());
        Assert.Equal(1, Events(id, EventTypes.WorkflowCompleted));
    }

    [Fact]
    public async Task Removing_the_last_unfinished_task_of_an_active_workflow_completes_it_in_the_same_change()
    {
        var id = await CreateIdAsync();
        var done = await TaskAsync("done");
        var pending = await TaskAsync("pending");
        await OkJsonAsync(AddAsync(id, new { taskId = done }));
        await OkJsonAsync(AddAsync(id, new { taskId = pending }));
        (await TasksApiTests.ChangeStatusAsync(Agent, done, new { status = "running" })).Dispose();
        (await TasksApiTests.ChangeStatusAsync(Agent, done, new { status = "completed" })).Dispose();
        await OkJsonAsync(StatusAsync(id, new { status = "active" }));

        var workflow = await OkJsonAsync(Agent.DeleteAsync(new Uri($"/api/workflows/{id}/tasks/{pending}", UriKind.Relative)));

        // The progress of the change counts the link it removed as gone, although it was not saved yet when derived.
        var progress = Payloads(id, EventTypes.WorkflowProgress)[^1];
        Assert.Equal((1, 100), (progress.GetProperty("total").GetInt32(), progress.GetProperty("progress").GetInt32()));
        Assert.Equal("completed", workflow.GetProperty("status").GetString());
        Assert.Equal("completed", (await GetAsync(id)).GetProperty("status").GetString());
        Assert.Equal(1, Events(id, EventTypes.WorkflowCompleted));
    }

    [Fact]
    public async Task Lists_filter_by_status_and_name_with_paging_and_progress()
    {
        var a = await CreateIdAsync("alpha");
        await CreateIdAsync("beta");
        await CreateIdAsync("alpha");
        await OkJsonAsync(StatusAsync(a, new { status = "active" }));
        await OkJsonAsync(AddAsync(a, new { taskId = await TaskAsync() }));

        async Task<JsonElement> List(string query) => await Dashboard.GetFromJsonAsync<JsonElement>(new Uri("/api/workflows" + query, UriKind.Relative));
        static string[] Names(JsonElement page) => page.GetProperty("items").EnumerateArray().Select(w => w.GetProperty("name").GetString()!).ToArray();

        var all = await List("");
        Assert.Equal(["alpha", "beta", "alpha"], Names(all));
        Assert.Equal(3, all.GetProperty("total").GetInt32());
        var active = await List("?status=active");
        Assert.Equal(a, Assert.Single(active.GetProperty("items").EnumerateArray()).GetProperty("id").GetString());
        Assert.Equal(1, active.GetProperty("items")[0].GetProperty("progress").GetProperty("total").GetInt32());
        Assert.Equal(JsonValueKind.Object, active.GetProperty("items")[0].GetProperty("definition").ValueKind);
        Assert.Equal(["alpha", "alpha"], Names(await List("?name=alpha")));
        Assert.Equal(["beta"], Names(await List("?pageSize=1&page=2")));
        using var badStatus = await Dashboard.GetAsync(new Uri("/api/workflows?status=weird", UriKind.Relative));
        using var badPage = await Dashboard.GetAsync(new Uri("/api/workflows?page=0", UriKind.Relative));
        using var badSize = await Dashboard.GetAsync(new Uri("/api/workflows?pageSize=x", UriKind.Relative));
        Assert.All([badStatus, badPage, badSize], r => Assert.Equal(HttpStatusCode.BadRequest, r.StatusCode));
    }

    [Fact]
    public async Task Unknown_ids_are_404_everywhere()
    {
        var task = await TaskAsync();
        using var get = await Agent.GetAsync(new Uri("/api/workflows/nope", UriKind.Relative));
        using var status = await StatusAsync("nope", new { status = "active" });
        using var add = await AddAsync("nope", new { taskId = task });
        using var remove = await Agent.DeleteAsync(new Uri($"/api/workflows/nope/tasks/{task}", UriKind.Relative));
        using var reorder = await ReorderAsync("nope", new { taskIds = new[] { task } });

        Assert.All([get, status, add, remove, reorder], r => Assert.Equal(HttpStatusCode.NotFound, r.StatusCode));
        Assert.All([get, status, add, remove, reorder], r => Assert.Equal("application/problem+json", r.Content.Headers.ContentType?.MediaType));
    }

    [Fact]
    public async Task Dashboards_read_only_other_agents_refused_and_admins_change_any_workflow()
    {
        var id = await CreateIdAsync();
        var task = await TaskAsync();

        using var dashboardCreate = await Dashboard.PostAsJsonAsync(new Uri("/api/workflows", UriKind.Relative), new { name = "w", definition = new { } });
        using var dashboardStatus = await StatusAsync(id, new { status = "active" }, Dashboard);
        using var dashboardAdd = await Dashboard.PostAsJsonAsync(new Uri($"/api/workflows/{id}/tasks", UriKind.Relative), new { taskId = task });
        using var dashboardRead = await Dashboard.GetAsync(new Uri($"/api/workflows/{id}", UriKind.Relative));
        using var otherAgent = await StatusAsync(id, new { status = "active" }, OtherAgent);
        using var admin = await StatusAsync(id, new { status = "active" }, Admin);
        using var anonymous = new HttpClient { BaseAddress = _server.BaseAddress };
        using var noToken = await anonymous.GetAsync(new Uri($"/api/workflows/{id}", UriKind.Relative));

        Assert.Equal(HttpStatusCode.Forbidden, dashboardCreate.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, dashboardStatus.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, dashboardAdd.StatusCode);
        Assert.Equal(HttpStatusCode.OK, dashboardRead.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, otherAgent.StatusCode);
        Assert.Equal(HttpStatusCode.OK, admin.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, noToken.StatusCode);
        Assert.Equal(1, _server.Store.QueryLong("SELECT COUNT(*) FROM workflows"));
    }
}
