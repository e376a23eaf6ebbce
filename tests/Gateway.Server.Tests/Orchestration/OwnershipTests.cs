using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Gateway.Contracts;
using Gateway.Testing;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;

namespace Gateway.Server.Tests.Orchestration;

/// <summary>
/// The ownership rules of docs/protocol.md's table, every change an agent can make, for the owner, another agent, a
/// dashboard and an admin, over REST and over the hub: the owner and admins may, the others are refused (403 /
/// forbidden) and nothing is written.
/// </summary>
[Trait(TestProviders.Trait, TestProviders.Both)]
public sealed class OwnershipTests : IClassFixture<OwnershipTests.Server>
{
    private const string Owner = "agent-owner";
    private const string OtherAgent = "agent-other";
    private const string Viewer = "viewer";
    private const string Root = "root";

    private readonly Server _server;

    public OwnershipTests(Server server) => _server = server;

    public static TheoryData<string, string, bool> Cases()
    {
        var data = new TheoryData<string, string, bool>();
        foreach (var operation in Operations.Keys)
        {
            foreach (var caller in new[] { Owner, OtherAgent, Viewer, Root })
            {
                data.Add(operation, caller, false);
                data.Add(operation, caller, true);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Only_the_owner_and_admins_change_what_the_owner_created(string operation, string caller, bool overHub)
    {
        var fixture = await Fixture.CreateAsync(_server.Rest(Owner, GatewayRoles.Agent));
        var eventsBefore = _server.Store.QueryLong("SELECT COUNT(*) FROM gateway_events");
        var rowsBefore = RowSnapshot();

        var call = Operations[operation];
        var refusal = overHub
            ? await HubRefusalAsync(async () => await call.Hub(await _server.Hub(caller, RoleOf(caller)), fixture))
            : await RestRefusalAsync(() => call.Rest(_server.Rest(caller, RoleOf(caller)), fixture));

        if (caller is Owner or Root)
        {
            Assert.True(refusal is null, $"{operation} by {caller}: refused: {refusal}");
            Assert.True(_server.Store.QueryLong("SELECT COUNT(*) FROM gateway_events") > eventsBefore, $"{operation} by {caller} emitted no event");
        }
        else
        {
            Assert.True(refusal is not null, $"{operation} by {caller} was allowed");
            Assert.StartsWith("forbidden", refusal, StringComparison.Ordinal);
            Assert.Equal(eventsBefore, _server.Store.QueryLong("SELECT COUNT(*) FROM gateway_events"));
            Assert.Equal(rowsBefore, RowSnapshot());
        }
    }

    [Fact]
    public async Task An_agent_adds_only_its_own_tasks_to_its_workflow()
    {
        var fixture = await Fixture.CreateAsync(_server.Rest(Owner, GatewayRoles.Agent));
        var othersTask = await Fixture.CreateTaskAsync(_server.Rest(OtherAgent, GatewayRoles.Agent));

        using var refused = await _server.Rest(Owner, GatewayRoles.Agent)
            .PostAsJsonAsync(new Uri($"/api/workflows/{fixture.WorkflowId}/tasks", UriKind.Relative), new { taskId = othersTask });
        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);

        using var byAdmin = await _server.Rest(Root, GatewayRoles.Admin)
            .PostAsJsonAsync(new Uri($"/api/workflows/{fixture.WorkflowId}/tasks", UriKind.Relative), new { taskId = othersTask });
        Assert.Equal(HttpStatusCode.OK, byAdmin.StatusCode);
    }

    [Fact]
    public async Task Rows_the_orchestrator_wrote_without_an_owner_are_changed_by_admins_only()
    {
        var workflowId = Guid.NewGuid().ToString();
        var taskId = Guid.NewGuid().ToString();
        _server.Store.QueryLong(
            $"INSERT INTO workflows (id, name, definition) VALUES ('{workflowId}', 'from the orchestrator', '{{}}'); "
            + $"INSERT INTO tasks (id, title, task_type) VALUES ('{taskId}', 'from the orchestrator', 'build'); SELECT 1");

        var agent = _server.Rest(Owner, GatewayRoles.Agent);
        using var workflowByAgent = await agent.PostAsJsonAsync(new Uri($"/api/workflows/{workflowId}/status", UriKind.Relative), new { status = "active" });
        using var toolByAgent = await agent.PostAsJsonAsync(
            new Uri($"/api/tasks/{taskId}/tool-executions", UriKind.Relative), new { toolName = "sh", arguments = new { } });
        Assert.Equal(HttpStatusCode.Forbidden, workflowByAgent.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, toolByAgent.StatusCode);

        var admin = _server.Rest(Root, GatewayRoles.Admin);
        using var workflowByAdmin = await admin.PostAsJsonAsync(new Uri($"/api/workflows/{workflowId}/status", UriKind.Relative), new { status = "active" });
        using var toolByAdmin = await admin.PostAsJsonAsync(
            new Uri($"/api/tasks/{taskId}/tool-executions", UriKind.Relative), new { toolName = "sh", arguments = new { } });
        Assert.Equal(HttpStatusCode.OK, workflowByAdmin.StatusCode);
        Assert.Equal(HttpStatusCode.Created, toolByAdmin.StatusCode);
    }

    private static string RoleOf(string caller) => caller switch
    {
        Viewer => GatewayRoles.Dashboard,
        Root => GatewayRoles.Admin,
        _ => GatewayRoles.Agent,
    };

    private string RowSnapshot() => string.Join(
        "|",
        _server.Store.QueryStrings("SELECT id || status || updated_at FROM tasks ORDER BY id")
            .Concat(_server.Store.QueryStrings("SELECT id || status || COALESCE(output, '') FROM tool_executions ORDER BY id"))
            .Concat(_server.Store.QueryStrings("SELECT id || status || updated_at FROM workflows ORDER BY id"))
            .Concat(_server.Store.QueryStrings("SELECT workflow_id || task_id || sequence FROM workflow_tasks ORDER BY 1")));

    /// <summary>Null when the call succeeded, else the problem's code and detail.</summary>
    private static async Task<string?> RestRefusalAsync(Func<Task<HttpResponseMessage>> call)
    {
        using var response = await call();
        if (response.IsSuccessStatusCode)
        {
            return null;
        }

        var body = await response.Content.ReadAsStringAsync();
        var code = response.StatusCode == HttpStatusCode.Forbidden ? "forbidden" : response.StatusCode.ToString();
        return $"{code} {body}";
    }

    private static async Task<string?> HubRefusalAsync(Func<Task> call)
    {
        try
        {
            await call().WaitAsync(TestHubConnections.Timeout);
            return null;
        }
        catch (HubException error)
        {
            // The .NET client prefixes the server's message: "An unexpected error occurred invoking 'X' on the server. HubException: code: ..."
            const string Marker = "HubException: ";
            var at = error.Message.IndexOf(Marker, StringComparison.Ordinal);
            return at < 0 ? error.Message : error.Message[(at + Marker.Length)..];
        }
    }

    private sealed record Operation(Func<HttpClient, Fixture, Task<HttpResponseMessage>> Rest, Func<HubConnection, Fixture, Task> Hub);

    private static readonly Dictionary<string, Operation> Operations = new()
    {
        ["task status"] = new(
            (c, f) => c.PostAsJsonAsync(Url($"/api/tasks/{f.TaskId}/status"), new { status = "cancelled" }),
            (h, f) => h.InvokeAsync<TaskInfo>(nameof(ITaskHub.ChangeTaskStatus), f.TaskId, new ChangeTaskStatusCommand("cancelled"))),
        ["task progress"] = new(
            (c, f) => c.PostAsJsonAsync(Url($"/api/tasks/{f.RunningTaskId}/progress"), new { progress = 50 }),
            (h, f) => h.InvokeAsync<bool>(nameof(ITaskHub.ReportTaskProgress), f.RunningTaskId, 50, null)),
        ["task delete"] = new(
            (c, f) => c.DeleteAsync(Url($"/api/tasks/{f.TaskId}")),
            (h, f) => h.InvokeAsync<bool>(nameof(ITaskHub.DeleteTask), f.TaskId)),
        ["tool start"] = new(
            (c, f) => c.PostAsJsonAsync(Url($"/api/tasks/{f.TaskId}/tool-executions"), new { toolName = "sh", arguments = new { } }),
            (h, f) => h.InvokeAsync<ToolExecutionInfo>(nameof(IToolExecutionHub.StartToolExecution), f.TaskId, new StartToolExecutionCommand("sh", "{}"))),
        ["tool output"] = new(
            (c, f) => c.PostAsJsonAsync(Url($"/api/tool-executions/{f.ExecutionId}/output"), new { output = "line\n" }),
            (h, f) => h.InvokeAsync<bool>(nameof(IToolExecutionHub.AppendToolOutput), f.ExecutionId, "line\n", false)),
        ["tool complete"] = new(
            (c, f) => c.PostAsJsonAsync(Url($"/api/tool-executions/{f.ExecutionId}/complete"), new { exitCode = 0 }),
            (h, f) => h.InvokeAsync<ToolExecutionInfo>(nameof(IToolExecutionHub.CompleteToolExecution), f.ExecutionId, 0)),
        ["tool fail"] = new(
            (c, f) => c.PostAsJsonAsync(Url($"/api/tool-executions/{f.ExecutionId}/fail"), new { error = "boom" }),
            (h, f) => h.InvokeAsync<ToolExecutionInfo>(nameof(IToolExecutionHub.FailToolExecution), f.ExecutionId, "boom")),
        ["tool timeout"] = new(
            (c, f) => c.PostAsync(Url($"/api/tool-executions/{f.ExecutionId}/timeout"), null),
            (h, f) => h.InvokeAsync<ToolExecutionInfo>(nameof(IToolExecutionHub.TimeOutToolExecution), f.ExecutionId)),
        ["workflow status"] = new(
            (c, f) => c.PostAsJsonAsync(Url($"/api/workflows/{f.WorkflowId}/status"), new { status = "active" }),
            (h, f) => h.InvokeAsync<WorkflowInfo>(nameof(IWorkflowHub.ChangeWorkflowStatus), f.WorkflowId, new ChangeWorkflowStatusCommand("active"))),
        ["workflow add task"] = new(
            (c, f) => c.PostAsJsonAsync(Url($"/api/workflows/{f.WorkflowId}/tasks"), new { taskId = f.TaskId }),
            (h, f) => h.InvokeAsync<WorkflowInfo>(nameof(IWorkflowHub.AddWorkflowTask), f.WorkflowId, f.TaskId, null)),
        ["workflow remove task"] = new(
            (c, f) => c.DeleteAsync(Url($"/api/workflows/{f.WorkflowId}/tasks/{f.StepTaskId}")),
            (h, f) => h.InvokeAsync<WorkflowInfo>(nameof(IWorkflowHub.RemoveWorkflowTask), f.WorkflowId, f.StepTaskId)),
        ["workflow reorder"] = new(
            (c, f) => c.PutAsJsonAsync(Url($"/api/workflows/{f.WorkflowId}/tasks"), new { taskIds = new[] { f.StepTaskId } }),
            (h, f) => h.InvokeAsync<WorkflowInfo>(nameof(IWorkflowHub.ReorderWorkflowTasks), f.WorkflowId, new[] { f.StepTaskId })),
    };

    private static Uri Url(string path) => new(path, UriKind.Relative);

    /// <summary>What the owner made: a pending task, a running one with a running tool execution, a draft workflow with one task.</summary>
    private sealed record Fixture(string TaskId, string RunningTaskId, string ExecutionId, string WorkflowId, string StepTaskId)
    {
        public static async Task<Fixture> CreateAsync(HttpClient owner)
        {
            var task = await CreateTaskAsync(owner);
            var running = await CreateTaskAsync(owner);
            (await owner.PostAsJsonAsync(Url($"/api/tasks/{running}/status"), new { status = "running" })).EnsureSuccessStatusCode();
            var execution = await IdOfAsync(owner.PostAsJsonAsync(Url($"/api/tasks/{running}/tool-executions"), new { toolName = "sh", arguments = new { } }));
            var workflow = await IdOfAsync(owner.PostAsJsonAsync(Url("/api/workflows"), new { name = "w", definition = new { } }));
            var step = await CreateTaskAsync(owner);
            (await owner.PostAsJsonAsync(Url($"/api/workflows/{workflow}/tasks"), new { taskId = step })).EnsureSuccessStatusCode();
            return new(task, running, execution, workflow, step);
        }

        public static Task<string> CreateTaskAsync(HttpClient owner) =>
            IdOfAsync(owner.PostAsJsonAsync(Url("/api/tasks"), new { title = "t", taskType = "build" }));

        private static async Task<string> IdOfAsync(Task<HttpResponseMessage> call)
        {
            using var response = await call;
            var text = await response.Content.ReadAsStringAsync();
            Assert.True(response.IsSuccessStatusCode, text);
            return JsonDocument.Parse(text).RootElement.GetProperty("id").GetString()!;
        }
    }

    /// <summary>One server for every case (each case makes its own rows), with a hub connection per caller.</summary>
    public sealed class Server : IAsyncLifetime, IDisposable
    {
        // No REST write limit: the owner makes about eight changes per case, 96 cases in a few seconds; the limits have tests of their own.
        private readonly GatewayTestServer _server = new(new Dictionary<string, string?> { ["RateLimits:WritesPerSecond"] = "0" });
        private readonly Dictionary<string, Task<HubConnection>> _hubs = [];

        public ITestDatabase Store => _server.Store;

        public HttpClient Rest(string user, string role) => _server.As(user, role);

        public Task<HubConnection> Hub(string user, string role)
        {
            lock (_hubs)
            {
                if (!_hubs.TryGetValue(user, out var hub))
                {
                    hub = StartAsync(user, role);
                    _hubs[user] = hub;
                }

                return hub;
            }
        }

        private async Task<HubConnection> StartAsync(string user, string role)
        {
            var client = _server.CreateClient(GatewayTestServer.Token(user, role));
            await client.StartAsync();
            return client.Connection;
        }

        // Started (and so migrated) before any test writes rows straight into the file.
        public Task InitializeAsync() => Task.FromResult(_server.BaseAddress);

        public async Task DisposeAsync()
        {
            foreach (var hub in _hubs.Values)
            {
                await (await hub).DisposeAsync();
            }

            _server.Dispose();
        }

        public void Dispose() => _server.Dispose();
    }
}
