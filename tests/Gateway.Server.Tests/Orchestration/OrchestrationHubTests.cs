using System.Collections.Concurrent;
using System.Net.Http.Json;
using System.Text.Json;
using Gateway.Contracts;
using Gateway.Testing;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;

namespace Gateway.Server.Tests.Orchestration;

/// <summary>
/// Workflow and tool execution hub methods with raw SignalR clients, over JSON and MessagePack: every method, coded
/// refusals, and arguments of the wrong type, after which the connection still works.
/// </summary>
public sealed class OrchestrationHubTests : IDisposable
{
    private readonly GatewayTestServer _server = new();
    private readonly HttpClient _agentHttp;

    public OrchestrationHubTests()
    {
        _agentHttp = _server.CreateHttpClient(GatewayTestServer.Token("agent-1", GatewayRoles.Agent));
    }

    public void Dispose()
    {
        _agentHttp.Dispose();
        _server.Dispose();
    }

    private async Task<TestHubClient> ConnectAsync(string user, string role, bool messagePack)
    {
        var client = _server.CreateClient(GatewayTestServer.Token(user, role), messagePack: messagePack);
        await client.StartAsync();
        return client;
    }

    private static Task<T> Invoke<T>(TestHubClient client, string method, params object?[] args) =>
        client.Connection.InvokeCoreAsync<T>(method, args).WaitAsync(TestHubConnections.Timeout);

    private static async Task<string?> RefusalCode(Task call)
    {
        var error = await Assert.ThrowsAsync<HubException>(() => call.WaitAsync(TestHubConnections.Timeout));
        return HubErrorCodes.CodeOf(error.Message);
    }

    private static async Task AssertStillOpen(TestHubClient client)
    {
        var reply = await Invoke<HeartbeatReply>(client, nameof(IGatewayHub.Heartbeat));
        Assert.NotEqual(default, reply.ServerTime);
        Assert.Equal(HubConnectionState.Connected, client.Connection.State);
    }

    private async Task<string> TaskAsync(string title = "step") => (await TasksApiTests.CreateAsync(_agentHttp, title)).GetProperty("id").GetString()!;

    private long Count(string sql) => _server.Store.QueryLong(sql);

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Every_workflow_method_works_over_the_hub(bool messagePack)
    {
        await using var agent = await ConnectAsync("agent-1", GatewayRoles.Agent, messagePack);
        await using var dashboard = await ConnectAsync("viewer", GatewayRoles.Dashboard, messagePack);
        var a = await TaskAsync("a");
        var b = await TaskAsync("b");
        var c = await TaskAsync("c");

        var created = await Invoke<WorkflowInfo>(agent, nameof(IWorkflowHub.CreateWorkflow), new CreateWorkflowCommand("hub flow", "{\"steps\": [1, 2]}", "over the hub"));
        var id = created.Id;
        await Invoke<WorkflowInfo>(agent, nameof(IWorkflowHub.AddWorkflowTask), id, a, null);
        await Invoke<WorkflowInfo>(agent, nameof(IWorkflowHub.AddWorkflowTask), id, b, null);
        var inserted = await Invoke<WorkflowInfo>(agent, nameof(IWorkflowHub.AddWorkflowTask), id, c, 0);
        var reordered = await Invoke<WorkflowInfo>(agent, nameof(IWorkflowHub.ReorderWorkflowTasks), id, new[] { a, b, c });
        var removed = await Invoke<WorkflowInfo>(agent, nameof(IWorkflowHub.RemoveWorkflowTask), id, c);
        var active = await Invoke<WorkflowInfo>(agent, nameof(IWorkflowHub.ChangeWorkflowStatus), id, new ChangeWorkflowStatusCommand("active", ExpectedStatus: "draft"));
        var fetched = await Invoke<WorkflowInfo>(dashboard, nameof(IWorkflowHub.GetWorkflow), id);
        var page = await Invoke<WorkflowPageInfo>(dashboard, nameof(IWorkflowHub.ListWorkflows), "active", "hub flow", 1, 10);
        var none = await Invoke<WorkflowPageInfo>(dashboard, nameof(IWorkflowHub.ListWorkflows), null, "other", 1, 10);

        Assert.Equal(("draft", "over the hub"), (created.Status, created.Description));
        Assert.Equal(2, JsonDocument.Parse(created.Definition).RootElement.GetProperty("steps").GetArrayLength());
        Assert.Empty(created.Tasks);
        Assert.Equal([c, a, b], inserted.Tasks.Select(t => t.TaskId).ToArray());
        Assert.Equal([a, b, c], reordered.Tasks.Select(t => t.TaskId).ToArray());
        Assert.Equal([0, 1, 2], reordered.Tasks.Select(t => t.Sequence).ToArray());
        Assert.Equal([a, b], removed.Tasks.Select(t => t.TaskId).ToArray());
        Assert.Equal("active", active.Status);
        Assert.Equal(("active", 2, 0), (fetched.Status, fetched.Progress.Total, fetched.Progress.Percent));
        Assert.Equal(["a", "b"], fetched.Tasks.Select(t => t.Title).ToArray());
        Assert.Equal(DateTimeKind.Utc, fetched.CreatedAt.Kind);
        Assert.Equal(id, Assert.Single(page.Items).Id);
        Assert.Equal(1, page.Total);
        Assert.Empty(none.Items);
        Assert.Equal(5, Count($"SELECT COUNT(*) FROM gateway_events WHERE workflow_id = '{id}' AND event_type = 'workflow.tasks_changed'"));
        Assert.Equal(1, Count($"SELECT COUNT(*) FROM gateway_events WHERE workflow_id = '{id}' AND event_type = 'workflow.status'"));

        foreach (var task in new[] { a, b })
        {
            (await TasksApiTests.ChangeStatusAsync(_agentHttp, task, new { status = "running" })).Dispose();
            (await TasksApiTests.ChangeStatusAsync(_agentHttp, task, new { status = "completed" })).Dispose();
        }

        var done = await Invoke<WorkflowInfo>(dashboard, nameof(IWorkflowHub.GetWorkflow), id);
        var archived = await Invoke<WorkflowInfo>(agent, nameof(IWorkflowHub.ChangeWorkflowStatus), id, new ChangeWorkflowStatusCommand("archived"));
        Assert.Equal(("completed", 100), (done.Status, done.Progress.Percent));
        Assert.Equal("archived", archived.Status);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Every_tool_execution_method_works_over_the_hub_and_task_subscribers_see_the_tool_events(bool messagePack)
    {
        await using var agent = await ConnectAsync("agent-1", GatewayRoles.Agent, messagePack);
        var received = new ConcurrentQueue<GatewayEvent>();
        agent.Connection.On<GatewayEvent>(nameof(IGatewayClient.EventReceived), e => received.Enqueue(e));
        var task = await TaskAsync();
        await Invoke<SubscriptionAck>(agent, nameof(IEventSubscriptionHub.Subscribe), new SubscriptionRequest(SubscriptionScopes.Task, task));

        var started = await Invoke<ToolExecutionInfo>(agent, nameof(IToolExecutionHub.StartToolExecution), task, new StartToolExecutionCommand("shell", "{\"command\": \"make\"}"));
        var appended = await Invoke<bool>(agent, nameof(IToolExecutionHub.AppendToolOutput), started.Id, "ok\n", false);
        await Invoke<bool>(agent, nameof(IToolExecutionHub.AppendToolOutput), started.Id, "warn\n", true);
        var fetched = await Invoke<ToolExecutionInfo>(agent, nameof(IToolExecutionHub.GetToolExecution), started.Id);
        var completed = await Invoke<ToolExecutionInfo>(agent, nameof(IToolExecutionHub.CompleteToolExecution), started.Id, 0);
        var second = await Invoke<ToolExecutionInfo>(agent, nameof(IToolExecutionHub.StartToolExecution), task, new StartToolExecutionCommand("git", "{}"));
        var failed = await Invoke<ToolExecutionInfo>(agent, nameof(IToolExecutionHub.FailToolExecution), second.Id, "merge conflict");
        var third = await Invoke<ToolExecutionInfo>(agent, nameof(IToolExecutionHub.StartToolExecution), task, new StartToolExecutionCommand("npm", "{}"));
        var timedOut = await Invoke<ToolExecutionInfo>(agent, nameof(IToolExecutionHub.TimeOutToolExecution), third.Id);
        var list = await Invoke<IReadOnlyList<ToolExecutionInfo>>(agent, nameof(IToolExecutionHub.ListToolExecutions), task);

        Assert.Equal(("running", task, "make"), (started.Status, started.TaskId, JsonDocument.Parse(started.Arguments).RootElement.GetProperty("command").GetString()));
        Assert.NotNull(started.StartedAt);
        Assert.Equal(DateTimeKind.Utc, started.StartedAt!.Value.Kind);
        Assert.True(appended);
        Assert.Equal("ok\nwarn\n", fetched.Output);
        Assert.Equal("completed", completed.Status);
        Assert.NotNull(completed.CompletedAt);
        Assert.Equal((long)(completed.CompletedAt!.Value - completed.StartedAt!.Value).TotalMilliseconds, completed.DurationMs);
        Assert.Equal(("failed", "merge conflict"), (failed.Status, failed.Error));
        Assert.Equal("timeout", timedOut.Status);
        Assert.Equal([started.Id, second.Id, third.Id], list.Select(e => e.Id).ToArray());

        string[] expected = ["tool.started", "tool.output", "tool.output", "tool.completed", "tool.started", "tool.failed", "tool.started", "tool.completed"];
        var deadline = DateTime.UtcNow + TestHubConnections.Timeout;
        while (received.Count(e => e.Type.StartsWith("tool.", StringComparison.Ordinal)) < expected.Length)
        {
            Assert.True(DateTime.UtcNow < deadline, $"tool events not received: {string.Join(", ", received.Select(e => e.Type))}");
            await Task.Delay(20);
        }

        var toolEvents = received.Where(e => e.Type.StartsWith("tool.", StringComparison.Ordinal)).ToList();
        Assert.Equal(expected, toolEvents.Select(e => e.Type).ToArray());
        Assert.All(toolEvents, e => Assert.Equal(task, e.TaskId));
        Assert.Equal([started.Id, started.Id, started.Id, started.Id, second.Id, second.Id, third.Id, third.Id], toolEvents.Select(e => e.ExecutionId!).ToArray());
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Refusals_are_coded_hub_errors_and_the_connection_stays_open(bool messagePack)
    {
        await using var agent = await ConnectAsync("agent-1", GatewayRoles.Agent, messagePack);
        await using var dashboard = await ConnectAsync("viewer", GatewayRoles.Dashboard, messagePack);
        var task = await TaskAsync();
        var workflow = await Invoke<WorkflowInfo>(agent, nameof(IWorkflowHub.CreateWorkflow), new CreateWorkflowCommand("w", "{}"));
        await Invoke<WorkflowInfo>(agent, nameof(IWorkflowHub.AddWorkflowTask), workflow.Id, task, null);
        var execution = await Invoke<ToolExecutionInfo>(agent, nameof(IToolExecutionHub.StartToolExecution), task, new StartToolExecutionCommand("shell", "{}"));
        await Invoke<ToolExecutionInfo>(agent, nameof(IToolExecutionHub.CompleteToolExecution), execution.Id, null);
        var eventsBefore = Count("SELECT COUNT(*) FROM gateway_events");

        Assert.Equal(HubErrorCodes.NotFound, await RefusalCode(Invoke<WorkflowInfo>(agent, nameof(IWorkflowHub.GetWorkflow), "nope")));
        Assert.Equal(HubErrorCodes.NotFound, await RefusalCode(Invoke<WorkflowInfo>(agent, nameof(IWorkflowHub.AddWorkflowTask), workflow.Id, "nope", null)));
        Assert.Equal(HubErrorCodes.NotFound, await RefusalCode(Invoke<WorkflowInfo>(agent, nameof(IWorkflowHub.RemoveWorkflowTask), workflow.Id, "nope")));
        Assert.Equal(HubErrorCodes.NotFound, await RefusalCode(Invoke<ToolExecutionInfo>(agent, nameof(IToolExecutionHub.GetToolExecution), "nope")));
        Assert.Equal(HubErrorCodes.NotFound, await RefusalCode(Invoke<ToolExecutionInfo>(agent, nameof(IToolExecutionHub.StartToolExecution), "nope", new StartToolExecutionCommand("shell", "{}"))));
        Assert.Equal(HubErrorCodes.NotFound, await RefusalCode(Invoke<IReadOnlyList<ToolExecutionInfo>>(agent, nameof(IToolExecutionHub.ListToolExecutions), "nope")));
        Assert.Equal(HubErrorCodes.InvalidArgument, await RefusalCode(Invoke<WorkflowInfo>(agent, nameof(IWorkflowHub.CreateWorkflow), new CreateWorkflowCommand("w", "{\"a\": }"))));
        Assert.Equal(HubErrorCodes.InvalidArgument, await RefusalCode(Invoke<WorkflowInfo>(agent, nameof(IWorkflowHub.CreateWorkflow), new CreateWorkflowCommand("w", "[1]"))));
        Assert.Equal(HubErrorCodes.InvalidArgument, await RefusalCode(Invoke<WorkflowInfo>(agent, nameof(IWorkflowHub.ReorderWorkflowTasks), workflow.Id, new[] { task, "other" })));
        Assert.Equal(HubErrorCodes.InvalidArgument, await RefusalCode(Invoke<WorkflowInfo>(agent, nameof(IWorkflowHub.ListWorkflows), null, null, 0, 10)));
        Assert.Equal(HubErrorCodes.InvalidArgument, await RefusalCode(Invoke<ToolExecutionInfo>(agent, nameof(IToolExecutionHub.StartToolExecution), task, new StartToolExecutionCommand("shell", "\"text\""))));
        Assert.Equal(HubErrorCodes.InvalidArgument, await RefusalCode(Invoke<ToolExecutionInfo>(agent, nameof(IToolExecutionHub.FailToolExecution), execution.Id, "")));
        Assert.Equal(HubErrorCodes.Conflict, await RefusalCode(Invoke<WorkflowInfo>(agent, nameof(IWorkflowHub.ChangeWorkflowStatus), workflow.Id, new ChangeWorkflowStatusCommand("completed"))));
        Assert.Equal(HubErrorCodes.Conflict, await RefusalCode(Invoke<WorkflowInfo>(agent, nameof(IWorkflowHub.AddWorkflowTask), workflow.Id, task, null)));
        Assert.Equal(HubErrorCodes.Conflict, await RefusalCode(Invoke<ToolExecutionInfo>(agent, nameof(IToolExecutionHub.CompleteToolExecution), execution.Id, 1)));
        Assert.Equal(HubErrorCodes.Conflict, await RefusalCode(Invoke<bool>(agent, nameof(IToolExecutionHub.AppendToolOutput), execution.Id, "late", false)));
        Assert.Equal(HubErrorCodes.Forbidden, await RefusalCode(Invoke<WorkflowInfo>(dashboard, nameof(IWorkflowHub.CreateWorkflow), new CreateWorkflowCommand("w", "{}"))));
        Assert.Equal(HubErrorCodes.Forbidden, await RefusalCode(Invoke<WorkflowInfo>(dashboard, nameof(IWorkflowHub.ChangeWorkflowStatus), workflow.Id, new ChangeWorkflowStatusCommand("active"))));
        Assert.Equal(HubErrorCodes.Forbidden, await RefusalCode(Invoke<ToolExecutionInfo>(dashboard, nameof(IToolExecutionHub.StartToolExecution), task, new StartToolExecutionCommand("shell", "{}"))));

        var message = await Assert.ThrowsAsync<HubException>(() => Invoke<WorkflowInfo>(agent, nameof(IWorkflowHub.CreateWorkflow), new CreateWorkflowCommand("w", "{\"a\": }")));
        Assert.Contains("$.definition", message.Message, StringComparison.Ordinal);
        Assert.Equal(eventsBefore, Count("SELECT COUNT(*) FROM gateway_events"));
        Assert.Equal(1, Count("SELECT COUNT(*) FROM workflows"));
        await AssertStillOpen(agent);
        await AssertStillOpen(dashboard);
    }

    public static TheoryData<bool, string, object?[]> WrongArguments()
    {
        var data = new TheoryData<bool, string, object?[]>();
        foreach (var messagePack in new[] { false, true })
        {
            data.Add(messagePack, nameof(IWorkflowHub.CreateWorkflow), [42]);
            data.Add(messagePack, nameof(IWorkflowHub.CreateWorkflow), ["not a command"]);
            data.Add(messagePack, nameof(IWorkflowHub.GetWorkflow), []);
            data.Add(messagePack, nameof(IWorkflowHub.AddWorkflowTask), ["w", "t", "first"]);
            data.Add(messagePack, nameof(IWorkflowHub.ListWorkflows), [null, null, "one", 10]);
            data.Add(messagePack, nameof(IWorkflowHub.ReorderWorkflowTasks), ["w", 7]);
            data.Add(messagePack, nameof(IWorkflowHub.ChangeWorkflowStatus), ["w", true]);
            data.Add(messagePack, nameof(IToolExecutionHub.StartToolExecution), ["t", 3.5]);
            data.Add(messagePack, nameof(IToolExecutionHub.AppendToolOutput), ["e", "x", "yes"]);
            data.Add(messagePack, nameof(IToolExecutionHub.CompleteToolExecution), ["e", "zero"]);
            data.Add(messagePack, nameof(IToolExecutionHub.FailToolExecution), ["e", "boom", "extra"]);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(WrongArguments))]
    public async Task Arguments_of_the_wrong_type_are_a_hub_error_and_the_connection_stays_open(bool messagePack, string method, object?[] args)
    {
        await using var agent = await ConnectAsync("agent-1", GatewayRoles.Agent, messagePack);

        await Assert.ThrowsAsync<HubException>(() => agent.Connection.InvokeCoreAsync(method, typeof(object), args).WaitAsync(TestHubConnections.Timeout));

        await AssertStillOpen(agent);
        Assert.Equal(0, Count("SELECT COUNT(*) FROM workflows"));
        Assert.Equal(0, Count("SELECT COUNT(*) FROM tool_executions"));
    }
}
