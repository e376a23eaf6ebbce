using System.Text.Json;
using Gateway.Contracts;
using Gateway.Server.Events;
using Gateway.Testing;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Gateway.Server.Tests.Orchestration;

/// <summary>Task hub methods over JSON and MessagePack, their coded refusals, and event log retention.</summary>
public sealed class TaskHubTests : IDisposable
{
    private readonly GatewayTestServer _server = new();

    public void Dispose() => _server.Dispose();

    private async Task<TestHubClient> ConnectAsync(string user, string role, bool messagePack)
    {
        var client = _server.CreateClient(GatewayTestServer.Token(user, role), messagePack: messagePack);
        await client.StartAsync();
        return client;
    }

    private static Task<T> Invoke<T>(TestHubClient client, string method, params object?[] args) =>
        client.Connection.InvokeCoreAsync<T>(method, args).WaitAsync(TestHubConnections.Timeout);

    private static async Task<string?> RefusalCode(Task call) =>
        HubErrorCodes.CodeOf((await Assert.ThrowsAsync<HubException>(() => call.WaitAsync(TestHubConnections.Timeout))).Message);

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Every_task_method_works_over_the_hub(bool messagePack)
    {
        await using var agent = await ConnectAsync("agent-1", GatewayRoles.Agent, messagePack);

        var created = await Invoke<TaskInfo>(agent, nameof(ITaskHub.CreateTask), new CreateTaskCommand("Lint", "lint", Config: "{\"strict\": true}", WorkspacePath: "/ws"));
        var fetched = await Invoke<TaskInfo>(agent, nameof(ITaskHub.GetTask), created.Id);
        var running = await Invoke<TaskInfo>(agent, nameof(ITaskHub.ChangeTaskStatus), created.Id, new ChangeTaskStatusCommand("running"));
        var progressed = await Invoke<bool>(agent, nameof(ITaskHub.ReportTaskProgress), created.Id, 60, "most files");
        var completed = await Invoke<TaskInfo>(agent, nameof(ITaskHub.ChangeTaskStatus), created.Id, new ChangeTaskStatusCommand("completed", "running", Result: "{\"ok\": true}"));
        var deleted = await Invoke<bool>(agent, nameof(ITaskHub.DeleteTask), created.Id);

        Assert.Equal(("pending", "/ws"), (created.Status, created.WorkspacePath));
        Assert.True(JsonDocument.Parse(fetched.Config).RootElement.GetProperty("strict").GetBoolean());
        Assert.NotNull(running.StartedAt);
        Assert.True(progressed);
        Assert.Equal("completed", completed.Status);
        Assert.True(deleted);
        Assert.Equal(6, _server.Store.QueryLong($"SELECT COUNT(*) FROM gateway_events WHERE task_id = '{created.Id}'"));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Refusals_are_coded_and_wrong_argument_types_leave_the_connection_open(bool messagePack)
    {
        await using var agent = await ConnectAsync("agent-1", GatewayRoles.Agent, messagePack);
        await using var dashboard = await ConnectAsync("viewer", GatewayRoles.Dashboard, messagePack);
        var task = await Invoke<TaskInfo>(agent, nameof(ITaskHub.CreateTask), new CreateTaskCommand("t", "x"));

        Assert.Equal(HubErrorCodes.NotFound, await RefusalCode(Invoke<TaskInfo>(agent, nameof(ITaskHub.GetTask), "nope")));
        Assert.Equal(HubErrorCodes.Conflict, await RefusalCode(Invoke<TaskInfo>(agent, nameof(ITaskHub.ChangeTaskStatus), task.Id, new ChangeTaskStatusCommand("completed"))));
        Assert.Equal(HubErrorCodes.InvalidArgument, await RefusalCode(Invoke<TaskInfo>(agent, nameof(ITaskHub.ChangeTaskStatus), task.Id, new ChangeTaskStatusCommand("exploded"))));
        Assert.Equal(HubErrorCodes.InvalidArgument, await RefusalCode(Invoke<TaskInfo>(agent, nameof(ITaskHub.CreateTask), new CreateTaskCommand("t", "x", Config: "{\"a\": }"))));
        Assert.Equal(HubErrorCodes.InvalidArgument, await RefusalCode(Invoke<bool>(agent, nameof(ITaskHub.ReportTaskProgress), task.Id, 101, null)));
        Assert.Equal(HubErrorCodes.Forbidden, await RefusalCode(Invoke<TaskInfo>(dashboard, nameof(ITaskHub.CreateTask), new CreateTaskCommand("t", "x"))));
        await Assert.ThrowsAsync<HubException>(() => Invoke<TaskInfo>(agent, nameof(ITaskHub.GetTask), 12345));
        await Assert.ThrowsAsync<HubException>(() => Invoke<bool>(agent, nameof(ITaskHub.ReportTaskProgress), task.Id, "sixty", null));

        Assert.Equal(HubConnectionState.Connected, agent.Connection.State);
        Assert.Equal("pending", (await Invoke<TaskInfo>(agent, nameof(ITaskHub.GetTask), task.Id)).Status);
        Assert.Equal(1, _server.Store.QueryLong("SELECT COUNT(*) FROM gateway_events"));
    }

    [Fact]
    public async Task Events_older_than_the_retention_are_pruned()
    {
        const string Old = "INSERT INTO gateway_events (event_type, priority, payload, created_at) VALUES ('task.status', 1, '{}', datetime('now', '-30 days'))";
        await using var agent = await ConnectAsync("agent-1", GatewayRoles.Agent, messagePack: false);
        Execute(Old);
        Execute(Old);
        await Invoke<TaskInfo>(agent, nameof(ITaskHub.CreateTask), new CreateTaskCommand("fresh", "x"));
        // Logged after a fresh event (another writer's clock): kept until the fresh one ages, so that every event
        // above the retention floor stays in the log.
        Execute(Old);

        var retention = _server.Services.GetServices<IHostedService>().OfType<EventRetention>().Single();
        var pruned = await retention.PruneAsync(CancellationToken.None);

        Assert.Equal(2, pruned);
        Assert.Equal(2, _server.Store.QueryLong("SELECT retention_floor FROM gateway_log"));
        Assert.Equal([3, 4], _server.Store.QueryLongs("SELECT id FROM gateway_events ORDER BY id"));

        void Execute(string sql)
        {
            using var connection = _server.Database.Open();
            using var command = connection.CreateCommand();
            command.CommandText = sql;
            command.ExecuteNonQuery();
        }
    }
}
