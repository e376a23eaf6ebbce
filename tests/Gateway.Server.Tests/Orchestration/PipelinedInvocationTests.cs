using Gateway.Contracts;
using Gateway.Server.Events;
using Gateway.Server.Orchestration;
using Gateway.Server.Orchestration.Tasks;
using Gateway.Testing;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.DependencyInjection;

namespace Gateway.Server.Tests.Orchestration;

/// <summary>
/// A connection's invocations run side by side, up to Limits:MaxParallelInvocationsPerConnection: a client may send
/// changes without waiting for each answer, and they commit in the order sent (each reaches the change writer's queue
/// before the next invocation starts), compare-and-set ones included. An Unsubscribe sent while its Subscribe still
/// replays stops that replay.
/// </summary>
public sealed class PipelinedInvocationTests : IDisposable
{
    private const int Limit = 4;

    private static readonly Caller Admin = new("admin-1", IsAdmin: true, IsAgent: false, IsDashboard: false);

    private readonly GatewayTestServer _server = new(new Dictionary<string, string?>
    {
        ["Database:BusyTimeoutSeconds"] = "30",
        ["Limits:MaxParallelInvocationsPerConnection"] = Limit.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["Limits:InvocationsPerSecond"] = "0",
        ["Events:QueueCapacityPerConnection"] = "4",
    });

    public void Dispose() => _server.Dispose();

    private ChangeWriter Writer => _server.Services.GetRequiredService<ChangeWriter>();

    private TaskService Tasks => _server.Services.GetRequiredService<TaskService>();

    private async Task<TestHubClient> ConnectAsync(string user, string role, bool messagePack)
    {
        var client = _server.CreateClient(GatewayTestServer.Token(user, role), messagePack: messagePack);
        await client.StartAsync();
        return client;
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Changes_sent_without_waiting_run_up_to_the_limit_at_once_and_commit_in_the_order_sent(bool messagePack)
    {
        await using var agent = await ConnectAsync("agent-1", GatewayRoles.Agent, messagePack);
        var task = await agent.Connection.InvokeAsync<TaskInfo>(nameof(ITaskHub.CreateTask), new CreateTaskCommand("pipelined", "x")).WaitAsync(TestHubConnections.Timeout);
        var eventsBefore = _server.Database.QueryLong("SELECT MAX(id) FROM gateway_events");
        const int Changes = 20;
        var sent = new List<Task<TaskInfo>>();
        Task blocker;
        using (var holder = _server.Database.Open())
        {
            using (var begin = holder.CreateCommand())
            {
                begin.CommandText = "BEGIN IMMEDIATE";
                begin.ExecuteNonQuery();
            }

            // The writer takes the blocker and waits for the lock; the pipelined changes then wait in its queue.
            blocker = Tasks.CreateAsync(Admin, new CreateTaskRequest("blocker", null, "test", null, null, null), default);
            await WaitUntilAsync(() => Writer.Queued == 0, "the writer never took the blocker");
            for (var i = 0; i < Changes; i++)
            {
                // pending -> running, then running <-> paused, each expecting the status the one before it left.
                var (status, expected) = i == 0 ? ("running", "pending") : i % 2 == 1 ? ("paused", "running") : ("running", "paused");
                sent.Add(agent.Connection.InvokeAsync<TaskInfo>(nameof(ITaskHub.ChangeTaskStatus), task.Id, new ChangeTaskStatusCommand(status, expected)));
            }

            // With one invocation at a time (SignalR's default) only the first would ever be queued.
            await WaitUntilAsync(() => Writer.Queued == Limit, $"not {Limit} changes of one connection in the writer's queue at once (saw {Writer.Queued})");
            await Task.Delay(300);
            Assert.Equal(Limit, Writer.Queued);

            using var rollback = holder.CreateCommand();
            rollback.CommandText = "ROLLBACK";
            rollback.ExecuteNonQuery();
        }

        await blocker;
        var answers = await Task.WhenAll(sent).WaitAsync(TestHubConnections.Timeout);

        Assert.Equal("paused", answers[^1].Status);
        Assert.Equal("paused", _server.Database.QueryString($"SELECT status FROM tasks WHERE id = '{task.Id}'"));
        Assert.Equal(
            Enumerable.Range(0, Changes).Select(i => i == 0 ? "pending>running" : i % 2 == 1 ? "running>paused" : "paused>running"),
            _server.Database.QueryStrings(
                $"SELECT json_extract(payload, '$.previous_status') || '>' || json_extract(payload, '$.status') FROM gateway_events WHERE id > {eventsBefore} AND task_id = '{task.Id}' ORDER BY id"));
    }

    [Fact]
    public async Task An_unsubscribe_sent_behind_its_subscribe_stops_the_replay()
    {
        var task = (await Tasks.CreateAsync(Admin, new CreateTaskRequest("chatty", null, "test", null, null, null), default)).Id;
        await Tasks.ChangeStatusAsync(Admin, task, new ChangeTaskStatusRequest("running"), default);
        const int Logged = 600;
        await Task.WhenAll(Enumerable.Range(0, Logged).Select(i => Tasks.ReportProgressAsync(Admin, task, new TaskProgressRequest(i % 101), default)));
        await using var dashboard = await ConnectAsync("viewer", GatewayRoles.Dashboard, messagePack: false);
        var received = 0;
        dashboard.Connection.On<GatewayEvent>(nameof(IGatewayClient.EventReceived), _ => Interlocked.Increment(ref received));

        // Sent back to back: the Unsubscribe runs while the Subscribe replays the task's logged events from position 0.
        var subscribe = dashboard.Connection.InvokeAsync<SubscriptionAck>(
            nameof(IEventSubscriptionHub.Subscribe), new SubscriptionRequest(SubscriptionScopes.Task, task, SubscriptionId: "s", AfterEventId: 0));
        var unsubscribe = dashboard.Connection.InvokeAsync<bool>(nameof(IEventSubscriptionHub.Unsubscribe), "s");
        Assert.True(await unsubscribe.WaitAsync(TestHubConnections.Timeout));
        await subscribe.WaitAsync(TestHubConnections.Timeout);
        await Tasks.ReportProgressAsync(Admin, task, new TaskProgressRequest(7), default);
        // A heartbeat answered after the live event shows everything sent before it has arrived.
        await dashboard.Connection.InvokeAsync<HeartbeatReply>(nameof(IGatewayHub.Heartbeat)).WaitAsync(TestHubConnections.Timeout);

        // Without the stop the whole log (602 events with the creation and the start) would follow the Unsubscribe's answer.
        Assert.True(Volatile.Read(ref received) < Logged / 2, $"{received} events replayed after the unsubscribe");
        Assert.Equal(HubConnectionState.Connected, dashboard.Connection.State);
    }

    private static async Task WaitUntilAsync(Func<bool> condition, string failure)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, failure);
            await Task.Delay(5);
        }
    }
}
