using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Gateway.Contracts;
using Gateway.Testing;

namespace Gateway.Server.Tests.Orchestration;

/// <summary>Tasks over REST: every endpoint, the state machine, and each kind of bad input, on a real server and file.</summary>
[Trait(TestProviders.Trait, TestProviders.Both)]
public sealed class TasksApiTests : IDisposable
{
    private readonly GatewayTestServer _server = new();

    private HttpClient Agent => _server.As("agent-1", GatewayRoles.Agent);
    private HttpClient OtherAgent => _server.As("agent-2", GatewayRoles.Agent);
    private HttpClient Dashboard => _server.As("viewer", GatewayRoles.Dashboard);
    private HttpClient Admin => _server.As("root", GatewayRoles.Admin);

    public void Dispose() => _server.Dispose();

    internal static async Task<JsonElement> CreateAsync(HttpClient client, string title = "Index the repo", string type = "indexing", string? workspace = null)
    {
        using var response = await client.PostAsJsonAsync(
            new Uri("/api/tasks", UriKind.Relative),
            new { title, taskType = type, config = new { depth = 3 }, metadata = new { source = "test" }, workspacePath = workspace });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }

    internal static Task<HttpResponseMessage> ChangeStatusAsync(HttpClient client, string id, object body) =>
        client.PostAsJsonAsync(new Uri($"/api/tasks/{id}/status", UriKind.Relative), body);

    private long Events(string taskId, string? type = null) => _server.Store.QueryLong(
        $"SELECT COUNT(*) FROM gateway_events WHERE task_id = '{taskId}'" + (type is null ? string.Empty : $" AND event_type = '{type}'"));

    [Fact]
    public async Task Create_get_and_the_created_event_are_one_change()
    {
        var created = await CreateAsync(Agent, workspace: "/ws/a");
        var id = created.GetProperty("id").GetString()!;

        var fetched = await Dashboard.GetFromJsonAsync<JsonElement>(new Uri($"/api/tasks/{id}", UriKind.Relative));

        Assert.Equal("pending", fetched.GetProperty("status").GetString());
        Assert.Equal(3, fetched.GetProperty("config").GetProperty("depth").GetInt32());
        Assert.Equal("agent-1", fetched.GetProperty("metadata").GetProperty("created_by").GetString());
        Assert.Equal("/ws/a", fetched.GetProperty("workspacePath").GetString());
        Assert.Equal(1, Events(id, EventTypes.TaskCreated));
    }

    [Fact]
    public async Task A_task_runs_through_its_lifecycle_with_timestamps_set_by_the_gateway()
    {
        var id = (await CreateAsync(Agent)).GetProperty("id").GetString()!;

        using var running = await ChangeStatusAsync(Agent, id, new { status = "running", startedAt = "1999-01-01T00:00:00Z" });
        using var progress = await Agent.PostAsJsonAsync(new Uri($"/api/tasks/{id}/progress", UriKind.Relative), new { progress = 40, message = "half way" });
        using var failed = await ChangeStatusAsync(Agent, id, new { status = "failed", error = "disk full" });
        using var retried = await ChangeStatusAsync(Agent, id, new { status = "queued" });
        using var runningAgain = await ChangeStatusAsync(Agent, id, new { status = "running" });
        using var completed = await ChangeStatusAsync(Agent, id, new { status = "completed", result = new { files = 12 } });
        var task = await completed.Content.ReadFromJsonAsync<JsonElement>();

        Assert.Equal(HttpStatusCode.OK, running.StatusCode);
        Assert.Equal(HttpStatusCode.Accepted, progress.StatusCode);
        Assert.Equal(HttpStatusCode.OK, failed.StatusCode);
        Assert.Equal(HttpStatusCode.OK, completed.StatusCode);
        Assert.Equal("completed", task.GetProperty("status").GetString());
        Assert.True(task.GetProperty("startedAt").GetDateTime() > new DateTime(2020, 1, 1, 0, 0, 0, DateTimeKind.Utc));
        Assert.True(task.GetProperty("completedAt").GetDateTime() >= task.GetProperty("startedAt").GetDateTime());
        Assert.Equal(JsonValueKind.Null, task.GetProperty("error").ValueKind);
        Assert.Equal(5, Events(id, EventTypes.TaskStatus));
        Assert.Equal(1, Events(id, EventTypes.TaskProgress));
        Assert.Equal(1, Events(id, EventTypes.TaskFailed));
        Assert.Equal(1, Events(id, EventTypes.TaskCompleted));
        Assert.Equal(2, _server.Store.QueryLong($"SELECT priority FROM gateway_events WHERE task_id = '{id}' AND event_type = 'task.failed'"));
    }

    [Theory]
    [InlineData("completed")]
    [InlineData("paused")]
    [InlineData("failed")]
    public async Task An_illegal_transition_is_a_409_and_changes_nothing(string target)
    {
        var id = (await CreateAsync(Agent)).GetProperty("id").GetString()!;
        var eventsBefore = Events(id);

        using var response = await ChangeStatusAsync(Agent, id, new { status = target, error = "x" });
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();

        Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
        Assert.Equal("conflict", problem.GetProperty("code").GetString());
        Assert.Contains("cannot go from pending", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal("pending", (await Agent.GetFromJsonAsync<JsonElement>(new Uri($"/api/tasks/{id}", UriKind.Relative))).GetProperty("status").GetString());
        Assert.Equal(eventsBefore, Events(id));
    }

    [Fact]
    public async Task Expected_status_makes_a_status_change_a_compare_and_set()
    {
        var id = (await CreateAsync(Agent)).GetProperty("id").GetString()!;
        using var first = await ChangeStatusAsync(Agent, id, new { status = "queued", expectedStatus = "pending" });
        using var second = await ChangeStatusAsync(Agent, id, new { status = "running", expectedStatus = "pending" });

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, second.StatusCode);
    }

    [Theory]
    [InlineData("{\"title\": \"t\", \"taskType\": \"x\", \"config\": {\"a\": }", "Malformed JSON")]
    [InlineData("{\"title\": 5, \"taskType\": \"x\"}", "$.title")]
    [InlineData("{\"title\": \"t\", \"taskType\": \"x\", \"config\": [1, 2]}", "$.config")]
    [InlineData("{\"title\": \"t\", \"taskType\": \"x\", \"metadata\": \"text\"}", "$.metadata")]
    [InlineData("{\"taskType\": \"x\"}", "$.title")]
    [InlineData("{\"title\": \"t\"}", "$.taskType")]
    public async Task Bad_bodies_are_400_problems_with_the_path_and_create_nothing(string body, string expected)
    {
        using var content = new StringContent(body, Encoding.UTF8, "application/json");
        using var response = await Agent.PostAsync(new Uri("/api/tasks", UriKind.Relative), content);
        var text = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains(expected, text, StringComparison.Ordinal);
        Assert.Equal(0, _server.Store.QueryLong("SELECT COUNT(*) FROM tasks"));
    }

    [Fact]
    public async Task An_oversized_body_is_a_413_problem_and_creates_nothing()
    {
        var body = JsonSerializer.Serialize(new { title = "big", taskType = "x", config = new { blob = new string('a', 3 * 1024 * 1024) } });
        using var content = new StringContent(body, Encoding.UTF8, "application/json");
        using var response = await Agent.PostAsync(new Uri("/api/tasks", UriKind.Relative), content);

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(0, _server.Store.QueryLong("SELECT COUNT(*) FROM tasks"));
    }

    [Fact]
    public async Task Bad_status_values_and_progress_are_400()
    {
        var id = (await CreateAsync(Agent)).GetProperty("id").GetString()!;
        using var unknownStatus = await ChangeStatusAsync(Agent, id, new { status = "exploded" });
        using var failedWithoutError = await ChangeStatusAsync(Agent, id, new { status = "failed" });
        using var progressOutOfRange = await Agent.PostAsJsonAsync(new Uri($"/api/tasks/{id}/progress", UriKind.Relative), new { progress = 140 });

        Assert.Equal(HttpStatusCode.BadRequest, unknownStatus.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, failedWithoutError.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, progressOutOfRange.StatusCode);
    }

    [Fact]
    public async Task Unknown_ids_are_404_everywhere()
    {
        using var get = await Agent.GetAsync(new Uri("/api/tasks/nope", UriKind.Relative));
        using var status = await ChangeStatusAsync(Agent, "nope", new { status = "running" });
        using var progress = await Agent.PostAsJsonAsync(new Uri("/api/tasks/nope/progress", UriKind.Relative), new { progress = 1 });
        using var delete = await Agent.DeleteAsync(new Uri("/api/tasks/nope", UriKind.Relative));

        Assert.All([get, status, progress, delete], r => Assert.Equal(HttpStatusCode.NotFound, r.StatusCode));
    }

    [Fact]
    public async Task Dashboards_read_but_do_not_write_and_agents_change_only_their_own_tasks()
    {
        var id = (await CreateAsync(Agent)).GetProperty("id").GetString()!;

        using var dashboardCreate = await Dashboard.PostAsJsonAsync(new Uri("/api/tasks", UriKind.Relative), new { title = "t", taskType = "x" });
        using var othersChange = await ChangeStatusAsync(OtherAgent, id, new { status = "running" });
        using var othersDelete = await OtherAgent.DeleteAsync(new Uri($"/api/tasks/{id}", UriKind.Relative));
        using var adminChange = await ChangeStatusAsync(Admin, id, new { status = "running" });
        using var anonymous = new HttpClient { BaseAddress = _server.BaseAddress };
        using var noToken = await anonymous.GetAsync(new Uri($"/api/tasks/{id}", UriKind.Relative));

        Assert.Equal(HttpStatusCode.Forbidden, dashboardCreate.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, othersChange.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, othersDelete.StatusCode);
        Assert.Equal(HttpStatusCode.OK, adminChange.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, noToken.StatusCode);
    }

    [Fact]
    public async Task Lists_filter_by_status_type_workspace_and_creation_time_with_paging()
    {
        var before = DateTime.UtcNow.AddSeconds(-1);
        var a = (await CreateAsync(Agent, "a", "indexing", "/ws/1")).GetProperty("id").GetString()!;
        await CreateAsync(Agent, "b", "review", "/ws/1");
        await CreateAsync(Agent, "c", "indexing", "/ws/2");
        (await ChangeStatusAsync(Agent, a, new { status = "running" })).Dispose();

        async Task<string[]> Titles(string query) =>
            (await Dashboard.GetFromJsonAsync<JsonElement>(new Uri("/api/tasks" + query, UriKind.Relative)))
                .GetProperty("items").EnumerateArray().Select(t => t.GetProperty("title").GetString()!).ToArray();

        Assert.Equal(["c", "b", "a"], await Titles(""));
        Assert.Equal(["a"], await Titles("?status=running"));
        Assert.Equal(["c", "a"], await Titles("?type=indexing"));
        Assert.Equal(["b", "a"], await Titles("?workspace=/ws/1"));
        Assert.Equal(["c", "b", "a"], await Titles($"?createdAfter={before:O}"));
        Assert.Empty(await Titles($"?createdBefore={before:O}"));
        Assert.Equal(["b"], await Titles("?pageSize=1&page=2"));
        using var badStatus = await Dashboard.GetAsync(new Uri("/api/tasks?status=weird", UriKind.Relative));
        using var badPage = await Dashboard.GetAsync(new Uri("/api/tasks?pageSize=0", UriKind.Relative));
        using var badTime = await Dashboard.GetAsync(new Uri("/api/tasks?createdAfter=yesterday", UriKind.Relative));
        Assert.All([badStatus, badPage, badTime], r => Assert.Equal(HttpStatusCode.BadRequest, r.StatusCode));
    }

    [Fact]
    public async Task Delete_removes_the_task_and_logs_task_deleted()
    {
        var id = (await CreateAsync(Agent)).GetProperty("id").GetString()!;

        using var deleted = await Agent.DeleteAsync(new Uri($"/api/tasks/{id}", UriKind.Relative));
        using var again = await Agent.GetAsync(new Uri($"/api/tasks/{id}", UriKind.Relative));

        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, again.StatusCode);
        Assert.Equal(1, Events(id, EventTypes.TaskDeleted));
    }

    [Fact]
    public async Task Concurrent_status_changes_of_one_task_have_exactly_one_winner_and_the_log_agrees()
    {
        var id = (await CreateAsync(Agent)).GetProperty("id").GetString()!;

        var attempts = await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => ChangeStatusAsync(Agent, id, new { status = "running" })));

        Assert.Equal(1, attempts.Count(r => r.StatusCode == HttpStatusCode.OK));
        Assert.Equal(19, attempts.Count(r => r.StatusCode == HttpStatusCode.Conflict));
        Assert.Equal(1, Events(id, EventTypes.TaskStatus));
        foreach (var response in attempts)
        {
            response.Dispose();
        }
    }
}
