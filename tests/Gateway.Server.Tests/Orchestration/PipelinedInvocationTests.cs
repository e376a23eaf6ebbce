using Gateway.Contracts;
using Gateway.Data.Entities;
using Gateway.Server.Events;
using Gateway.Server.Hubs;
using Gateway.Server.Metrics;
using Gateway.Server.Orchestration;
using Gateway.Server.Orchestration.Tasks;
using Gateway.Server.Sessions;
using Gateway.Server.Tests.Sessions;
using Gateway.Testing;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;

namespace Gateway.Server.Tests.Orchestration;

/// <summary>
/// A connection's invocations run side by side, up to Limits:MaxParallelInvocationsPerConnection: a client may send
/// changes without waiting for each answer, and they commit in the order sent (each reaches the change writer's queue
/// before the next invocation starts), compare-and-set ones included. So an Unsubscribe can run while its Subscribe
/// still replays: that replay stops.
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
        using (_server.Database.HoldWriteLock())
        {
            // The writer takes the blocker and waits for the lock; the pipelined changes then wait in its queue.
            blocker = Tasks.CreateAsync(Admin, new CreateTaskRequest("blocker", null, "test", null, null, null), default);
            await SessionRowTests.Eventually(() => Writer.Queued == 0, what: "the writer taking the blocker");
            for (var i = 0; i < Changes; i++)
            {
                // pending -> running, then running <-> paused, each expecting the status the one before it left.
                var (status, expected) = i == 0 ? ("running", "pending") : i % 2 == 1 ? ("paused", "running") : ("running", "paused");
                sent.Add(agent.Connection.InvokeAsync<TaskInfo>(nameof(ITaskHub.ChangeTaskStatus), task.Id, new ChangeTaskStatusCommand(status, expected)));
            }

            // With one invocation at a time (SignalR's default) only the first would ever be queued.
            await SessionRowTests.Eventually(() => Writer.Queued == Limit, what: $"{Limit} changes of one connection in the writer's queue at once");
            await Task.Delay(300);
            Assert.Equal(Limit, Writer.Queued);
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

    /// <summary>
    /// The race itself (an Unsubscribe dispatched while its Subscribe waits for room in the connection's queue) depends
    /// on when the client's second message arrives, so the subscription is driven here step by step as SubscribeAsync
    /// drives it: registered with live events held back, a live event published, then unsubscribed mid-replay.
    /// </summary>
    [Fact]
    public async Task A_subscription_removed_while_it_replays_gets_no_more_replayed_or_held_back_events()
    {
        var broadcaster = new EventBroadcaster();
        var stream = broadcaster.StreamOf("connection-1", () => new ConnectionEventStream(
            "connection-1",
            connection: null,
            new EventQueueLimits(Events: 4, Bytes: 16 * 1024 * 1024, StallTimeout: TimeSpan.FromSeconds(30)),
            _server.Services.GetRequiredService<IHubContext<GatewayHub, IGatewayClient>>(),
            _server.Services.GetRequiredService<RealtimeStats>(),
            _server.Services.GetRequiredService<GatewayMetrics>(),
            TimeProvider.System,
            overflow: () => { },
            NullLogger.Instance));
        var subscription = new EventSubscription("s", new SubscriptionRequest(SubscriptionScopes.Task, "task-1"), seesConfiguration: false) { HeldBack = [], LastQueuedId = 0 };
        broadcaster.Register(stream, subscription);
        Assert.True(await stream.EnqueueReplayedAsync(subscription, Event(1), CancellationToken.None));
        broadcaster.Publish([Event(3)]);
        Assert.Single(subscription.HeldBack!);
        Assert.Equal(ConnectionEventStream.CostOf(Event(3)), stream.Bytes);

        Assert.True(broadcaster.Unregister("connection-1", "s"));
        var replayedAfter = await stream.EnqueueReplayedAsync(subscription, Event(2), CancellationToken.None);
        broadcaster.GoLive(stream, subscription);

        Assert.False(replayedAfter);
        Assert.Equal(1, subscription.LastQueuedId);
        Assert.Null(subscription.HeldBack);
        Assert.Equal(0, stream.Bytes);
    }

    private static EventLogEntry Event(long id) => new()
    {
        Id = id,
        EventType = EventTypes.TaskStatus,
        Priority = EventPriorities.Normal,
        TaskId = "task-1",
        Payload = "{}",
        CreatedAt = DateTime.UtcNow,
    };
}
