using System.Text.Json;
using Gateway.Contracts;
using Gateway.Server.Events;
using Gateway.Server.Orchestration;
using Gateway.Server.Orchestration.Tasks;
using Gateway.Server.Orchestration.ToolExecutions;
using Gateway.Server.Orchestration.Workflows;
using Gateway.Server.Tests.Sessions;
using Gateway.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Gateway.Server.Tests.Events;

/// <summary>
/// The change writer saves a run of shared changes (task status and progress, tool output and ends) with one
/// SaveChanges: each change of one group must still see what the changes queued before it did, a change saved alone
/// (a delete) runs on what came before it, and a refusal anywhere in the group refuses that change only. The group is
/// made deterministic: another connection holds the write lock while the changes are queued in a known order, so
/// they are written as one transaction once it lets go.
/// </summary>
public sealed class SharedSaveTests : IDisposable
{
    private static readonly Caller Admin = new("admin-1", IsAdmin: true, IsAgent: false, IsDashboard: false);

    private readonly GatewayTestServer _server = new(new Dictionary<string, string?> { ["Database:BusyTimeoutSeconds"] = "30" });

    public void Dispose() => _server.Dispose();

    private TaskService Tasks => _server.Services.GetRequiredService<TaskService>();

    private ToolExecutionService Tools => _server.Services.GetRequiredService<ToolExecutionService>();

    private WorkflowService Workflows => _server.Services.GetRequiredService<WorkflowService>();

    private ChangeWriter Writer => _server.Services.GetRequiredService<ChangeWriter>();

    [Fact]
    public async Task Changes_saved_together_see_each_other_and_a_delete_between_them_sees_them_all()
    {
        var a = await CreateTaskAsync("a");
        var b = await CreateTaskAsync("b");
        var d = await CreateTaskAsync("d");
        var first = await CreateTaskAsync("first of the workflow");
        var second = await CreateTaskAsync("second of the workflow");
        var workflow = await Workflows.CreateAsync(Admin, new CreateWorkflowRequest("w", null, Json("{}")), default);
        await Workflows.AddTaskAsync(Admin, workflow.Id, new AddWorkflowTaskRequest(first), default);
        await Workflows.AddTaskAsync(Admin, workflow.Id, new AddWorkflowTaskRequest(second), default);
        await Workflows.ChangeStatusAsync(Admin, workflow.Id, new ChangeWorkflowStatusRequest("active"), default);
        await StatusAsync(first, "running");
        await StatusAsync(second, "running");
        var tool = await Tools.StartAsync(Admin, a, new StartToolExecutionRequest("grep", Json("{}")), default);
        var eventsBefore = _server.Database.QueryLong("SELECT MAX(id) FROM gateway_events");
        var savesBefore = Writer.Saves;

        var (group, transactions) = await QueueAsOneGroupAsync(
            () => StatusAsync(a, "running"),
            () => StatusAsync(a, "paused"),
            () => StatusAsync(a, "running"),
            () => Tasks.ReportProgressAsync(Admin, a, new TaskProgressRequest(50), default),
            () => Tools.AppendOutputAsync(Admin, tool.Id, new AppendToolOutputRequest("hello "), default),
            () => Tools.AppendOutputAsync(Admin, tool.Id, new AppendToolOutputRequest("world"), default),
            () => Tools.CompleteAsync(Admin, tool.Id, new CompleteToolExecutionRequest(0), default),
            () => StatusAsync(first, "completed"),
            () => Tasks.DeleteAsync(Admin, d, default),
            () => StatusAsync(second, "completed"),
            () => StatusAsync(b, "queued"));

        Assert.Equal(2, transactions); // the blocker's, then the group's
        Assert.All(group, change => Assert.True(change.IsCompletedSuccessfully, change.Exception?.ToString()));
        // The blocker's save; the eight shared changes before the delete share one, the delete has its own, the last two share one.
        Assert.Equal(1 + 3, Writer.Saves - savesBefore);
        Assert.Equal("running", Column($"SELECT status FROM tasks WHERE id = '{a}'"));
        Assert.Equal("queued", Column($"SELECT status FROM tasks WHERE id = '{b}'"));
        Assert.Equal(0, _server.Database.QueryLong($"SELECT COUNT(*) FROM tasks WHERE id = '{d}'"));
        Assert.Equal("hello world", Column($"SELECT output FROM tool_executions WHERE id = '{tool.Id}'"));
        Assert.Equal("completed", Column($"SELECT status FROM tool_executions WHERE id = '{tool.Id}'"));
        Assert.Equal("completed", Column($"SELECT status FROM workflows WHERE id = '{workflow.Id}'"));
        Assert.Equal(
            ["task.status", "task.status", "task.status", "task.progress", "tool.output", "tool.output", "tool.completed"],
            _server.Database.QueryStrings($"SELECT event_type FROM gateway_events WHERE id > {eventsBefore} AND task_id = '{a}' ORDER BY id"));
        Assert.Equal(
            ["pending>running", "running>paused", "paused>running"],
            _server.Database.QueryStrings($"SELECT json_extract(payload, '$.previous_status') || '>' || json_extract(payload, '$.status') FROM gateway_events WHERE id > {eventsBefore} AND task_id = '{a}' AND event_type = 'task.status' ORDER BY id"));
        Assert.Equal(
            ["workflow.progress", "workflow.progress", "workflow.status", "workflow.completed"],
            _server.Database.QueryStrings($"SELECT event_type FROM gateway_events WHERE id > {eventsBefore} AND workflow_id = '{workflow.Id}' AND event_type <> 'workflow.tasks_changed' ORDER BY id"));
        Assert.Equal(
            [50, 100],
            _server.Database.QueryLongs($"SELECT json_extract(payload, '$.progress') FROM gateway_events WHERE id > {eventsBefore} AND workflow_id = '{workflow.Id}' AND event_type = 'workflow.progress' ORDER BY id"));
    }

    [Fact]
    public async Task A_refused_change_in_a_shared_group_is_refused_alone_and_the_others_are_written()
    {
        var a = await CreateTaskAsync("a");
        var b = await CreateTaskAsync("b");
        await StatusAsync(a, "running");
        var eventsBefore = _server.Database.QueryLong("SELECT MAX(id) FROM gateway_events");

        var (group, transactions) = await QueueAsOneGroupAsync(
            () => StatusAsync(b, "running"),
            () => StatusAsync(b, "completed"),
            () => StatusAsync(a, "pending"),
            () => Tasks.ReportProgressAsync(Admin, b, new TaskProgressRequest(10), default),
            () => StatusAsync(a, "completed"));

        Assert.Equal(2, transactions);
        Assert.True(group[0].IsCompletedSuccessfully);
        Assert.True(group[1].IsCompletedSuccessfully);
        Assert.IsType<ConflictException>(group[2].Exception?.InnerException);
        Assert.IsType<ConflictException>(group[3].Exception?.InnerException);
        Assert.True(group[4].IsCompletedSuccessfully);
        Assert.Equal("completed", Column($"SELECT status FROM tasks WHERE id = '{a}'"));
        Assert.Equal("completed", Column($"SELECT status FROM tasks WHERE id = '{b}'"));
        Assert.Equal(
            ["task.status running", "task.status completed", "task.completed ", "task.status completed", "task.completed "],
            _server.Database.QueryStrings($"SELECT event_type || ' ' || coalesce(json_extract(payload, '$.status'), '') FROM gateway_events WHERE id > {eventsBefore} AND task_id IN ('{a}', '{b}') ORDER BY id"));
    }

    /// <summary>
    /// Holds the write lock, queues a blocker (the writer takes it and waits for the lock), then the changes in order
    /// behind it, and lets go: the changes are one group. Returns their tasks (completed) and the transactions made.
    /// </summary>
    private async Task<(List<Task> Changes, long Transactions)> QueueAsOneGroupAsync(params Func<Task>[] changes)
    {
        var transactionsBefore = Writer.Transactions;
        var queued = new List<Task>();
        Task blocker;
        using (_server.Database.HoldWriteLock())
        {
            blocker = Tasks.CreateAsync(Admin, new CreateTaskRequest("blocker", null, "test", null, null, null), default);
            await SessionRowTests.Eventually(() => Writer.Queued == 0, what: "the writer taking the blocker");
            // Each call queues its change before it returns (nothing awaited before the writer's queue).
            queued.AddRange(changes.Select(change => change()));
            Assert.Equal(changes.Length, Writer.Queued);
        }

        await blocker;
        try
        {
            await Task.WhenAll(queued).WaitAsync(TimeSpan.FromSeconds(30));
        }
        catch (GatewayRequestException)
        {
            // Refusals are asserted by the caller, one by one.
        }

        return (queued, Writer.Transactions - transactionsBefore);
    }

    private async Task<string> CreateTaskAsync(string title) =>
        (await Tasks.CreateAsync(Admin, new CreateTaskRequest(title, null, "test", null, null, null), default)).Id;

    private Task<TaskView> StatusAsync(string id, string status) =>
        Tasks.ChangeStatusAsync(Admin, id, new ChangeTaskStatusRequest(status, Result: status == "completed" ? Json("{}") : null), default);

    private string? Column(string sql) => _server.Database.QueryString(sql);

    private static JsonElement Json(string text) => JsonDocument.Parse(text).RootElement.Clone();
}
