using System.Collections.Concurrent;
using System.Net.Http.Json;
using System.Text.Json;
using Gateway.Contracts;
using Gateway.Server.Events;
using Gateway.Server.Tests.Orchestration;
using Gateway.Testing;
using Microsoft.AspNetCore.Http.Connections;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.DependencyInjection;

namespace Gateway.Server.Tests.Events;

/// <summary>Subscriptions: every event, in id order, once; replay after a position; reset past retention.</summary>
[Trait(TestProviders.Trait, TestProviders.Both)]
public sealed class EventStreamTests : IDisposable
{
    // One agent sends 200 changes at once (group commit), past its REST write burst; the limits have tests of their own.
    private readonly GatewayTestServer _server = new(new Dictionary<string, string?> { ["RateLimits:WritesPerSecond"] = "0" });

    private HttpClient Agent => _server.As("agent-1", GatewayRoles.Agent);

    public void Dispose() => _server.Dispose();

    /// <summary>A hub client that records every EventReceived.</summary>
    internal sealed class Subscriber : IAsyncDisposable
    {
        public Subscriber(TestHubClient client)
        {
            Client = client;
            client.Connection.On<GatewayEvent>(nameof(IGatewayClient.EventReceived), e => Received.Enqueue(e));
        }

        public TestHubClient Client { get; }

        public ConcurrentQueue<GatewayEvent> Received { get; } = new();

        public Task<SubscriptionAck> SubscribeAsync(SubscriptionRequest request) =>
            Client.Connection.InvokeAsync<SubscriptionAck>(nameof(IEventSubscriptionHub.Subscribe), request).WaitAsync(TestHubConnections.Timeout);

        public async Task WaitForAsync(long lastId)
        {
            var deadline = DateTime.UtcNow + TestHubConnections.Timeout;
            while (!Received.Any(e => e.Id >= lastId))
            {
                Assert.True(DateTime.UtcNow < deadline, $"event {lastId} not received; got up to {Received.LastOrDefault()?.Id}");
                await Task.Delay(20);
            }
        }

        public ValueTask DisposeAsync() => Client.DisposeAsync();
    }

    private async Task<Subscriber> ConnectAsync(string user, string role, bool messagePack = false, HttpTransportType transport = HttpTransportType.WebSockets)
    {
        var subscriber = new Subscriber(_server.CreateClient(GatewayTestServer.Token(user, role), transport, messagePack));
        await subscriber.Client.StartAsync();
        return subscriber;
    }

    private long[] LoggedIds(string where = "1 = 1") =>
        _server.Store.QueryLongs($"SELECT id FROM gateway_events WHERE {where} ORDER BY id");

    private async Task<string> ScriptedRunAsync(int tasks = 3)
    {
        string last = string.Empty;
        for (var i = 0; i < tasks; i++)
        {
            var id = (await TasksApiTests.CreateAsync(Agent, $"step {i}")).GetProperty("id").GetString()!;
            (await TasksApiTests.ChangeStatusAsync(Agent, id, new { status = "running" })).Dispose();
            (await Agent.PostAsJsonAsync(new Uri($"/api/tasks/{id}/progress", UriKind.Relative), new { progress = 50 })).Dispose();
            (await TasksApiTests.ChangeStatusAsync(Agent, id, i == 1 ? new { status = "failed", error = "tool crashed" } : new { status = "completed" })).Dispose();
            last = id;
        }

        return last;
    }

    [Theory]
    [InlineData(false, HttpTransportType.WebSockets)]
    [InlineData(true, HttpTransportType.WebSockets)]
    [InlineData(false, HttpTransportType.ServerSentEvents)]
    [InlineData(true, HttpTransportType.LongPolling)]
    public async Task A_dashboard_subscribed_to_everything_receives_every_event_in_order(bool messagePack, HttpTransportType transport)
    {
        await using var dashboard = await ConnectAsync("viewer", GatewayRoles.Dashboard, messagePack, transport);
        var ack = await dashboard.SubscribeAsync(new SubscriptionRequest(SubscriptionScopes.All));

        await ScriptedRunAsync();
        var logged = LoggedIds();
        await dashboard.WaitForAsync(logged[^1]);

        Assert.False(ack.Reset);
        Assert.Equal(logged, dashboard.Received.Select(e => e.Id).ToArray());
        Assert.All(dashboard.Received, e => Assert.Equal(ack.SubscriptionId, e.SubscriptionId));
        var failed = dashboard.Received.Single(e => e.Type == EventTypes.TaskFailed);
        Assert.Equal(EventPriorities.High, failed.Priority);
        using var payload = JsonDocument.Parse(failed.Payload);
        Assert.Equal("tool crashed", payload.RootElement.GetProperty("error").GetString());
        Assert.Equal(failed.TaskId, payload.RootElement.GetProperty("task_id").GetString());
    }

    [Fact]
    public async Task A_scripted_orchestrator_run_reaches_a_dashboard_complete_and_in_order()
    {
        await using var dashboard = await ConnectAsync("viewer", GatewayRoles.Dashboard, messagePack: true);
        var ack = await dashboard.SubscribeAsync(new SubscriptionRequest(SubscriptionScopes.All));

        // A workflow of three tasks; each runs a tool; the second task's tool fails and so does the task.
        using var created = await Agent.PostAsJsonAsync(new Uri("/api/workflows", UriKind.Relative), new { name = "release", definition = new { steps = 3 } });
        var workflowId = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;
        var taskIds = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            var taskId = (await TasksApiTests.CreateAsync(Agent, $"step {i}")).GetProperty("id").GetString()!;
            (await Agent.PostAsJsonAsync(new Uri($"/api/workflows/{workflowId}/tasks", UriKind.Relative), new { taskId })).Dispose();
            taskIds.Add(taskId);
        }

        (await Agent.PostAsJsonAsync(new Uri($"/api/workflows/{workflowId}/status", UriKind.Relative), new { status = "active" })).Dispose();
        for (var i = 0; i < 3; i++)
        {
            (await TasksApiTests.ChangeStatusAsync(Agent, taskIds[i], new { status = "running" })).Dispose();
            using var started = await Agent.PostAsJsonAsync(
                new Uri($"/api/tasks/{taskIds[i]}/tool-executions", UriKind.Relative), new { toolName = "shell", arguments = new { command = "make" } });
            var executionId = (await started.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;
            (await Agent.PostAsJsonAsync(new Uri($"/api/tool-executions/{executionId}/output", UriKind.Relative), new { output = "building\n", isStderr = false })).Dispose();
            if (i == 1)
            {
                (await Agent.PostAsJsonAsync(new Uri($"/api/tool-executions/{executionId}/fail", UriKind.Relative), new { error = "exit 2" })).Dispose();
                (await TasksApiTests.ChangeStatusAsync(Agent, taskIds[i], new { status = "failed", error = "build broke" })).Dispose();
            }
            else
            {
                (await Agent.PostAsJsonAsync(new Uri($"/api/tool-executions/{executionId}/complete", UriKind.Relative), new { exitCode = 0 })).Dispose();
                (await TasksApiTests.ChangeStatusAsync(Agent, taskIds[i], new { status = "completed" })).Dispose();
            }
        }

        var logged = LoggedIds();
        await dashboard.WaitForAsync(logged[^1]);
        var received = dashboard.Received.ToArray();

        Assert.Equal(logged, received.Select(e => e.Id).ToArray());
        Assert.True(received.Zip(received.Skip(1)).All(pair => pair.First.Id < pair.Second.Id));
        var types = received.Select(e => e.Type).ToHashSet();
        foreach (var expected in new[]
        {
            EventTypes.WorkflowCreated, EventTypes.WorkflowTasksChanged, EventTypes.WorkflowStatus, EventTypes.TaskStatus, EventTypes.ToolStarted,
            EventTypes.ToolOutput, EventTypes.ToolCompleted, EventTypes.ToolFailed, EventTypes.TaskCompleted, EventTypes.TaskFailed,
            EventTypes.WorkflowProgress, EventTypes.WorkflowFailed,
        })
        {
            Assert.Contains(expected, types);
        }

        Assert.All(received, e => Assert.Equal(ack.SubscriptionId, e.SubscriptionId));
        Assert.Equal("failed", (await Agent.GetFromJsonAsync<JsonElement>(new Uri($"/api/workflows/{workflowId}", UriKind.Relative))).GetProperty("status").GetString());
    }

    [Fact]
    public async Task Filters_by_subject_type_and_priority()
    {
        await using var dashboard = await ConnectAsync("viewer", GatewayRoles.Dashboard);
        var taskId = (await TasksApiTests.CreateAsync(Agent, "watched")).GetProperty("id").GetString()!;
        var onlyTask = await dashboard.SubscribeAsync(new SubscriptionRequest(SubscriptionScopes.Task, taskId));
        var onlyHigh = await dashboard.SubscribeAsync(new SubscriptionRequest(SubscriptionScopes.All, MinPriority: EventPriorities.High));
        var onlyStatus = await dashboard.SubscribeAsync(new SubscriptionRequest(SubscriptionScopes.All, Types: [EventTypes.TaskStatus]));

        await ScriptedRunAsync(2);
        (await TasksApiTests.ChangeStatusAsync(Agent, taskId, new { status = "running" })).Dispose();
        var logged = LoggedIds();
        await dashboard.WaitForAsync(logged[^1]);
        await Task.Delay(200);

        GatewayEvent[] Of(SubscriptionAck ack) => dashboard.Received.Where(e => e.SubscriptionId == ack.SubscriptionId).ToArray();
        Assert.Equal(LoggedIds($"task_id = '{taskId}' AND id > {onlyTask.HeadEventId}"), Of(onlyTask).Select(e => e.Id));
        Assert.Equal(LoggedIds($"priority >= 2 AND id > {onlyHigh.HeadEventId}"), Of(onlyHigh).Select(e => e.Id));
        Assert.Equal(LoggedIds($"event_type = 'task.status' AND id > {onlyStatus.HeadEventId}"), Of(onlyStatus).Select(e => e.Id));
    }

    [Fact]
    public async Task Resuming_after_a_position_replays_what_was_missed_then_goes_live_with_no_gap_and_no_repeat()
    {
        await using var first = await ConnectAsync("viewer", GatewayRoles.Dashboard);
        await first.SubscribeAsync(new SubscriptionRequest(SubscriptionScopes.All));
        await ScriptedRunAsync(1);
        await first.WaitForAsync(LoggedIds()[^1]);
        var lastSeen = first.Received.Last().Id;
        await first.Client.Connection.StopAsync();

        // Changes go on while the client is away, and while it resubscribes.
        await ScriptedRunAsync(2);
        using var writing = new CancellationTokenSource();
        var writer = Task.Run(async () =>
        {
            while (!writing.IsCancellationRequested)
            {
                await TasksApiTests.CreateAsync(Agent, "during resume");
            }
        });
        await using var second = await ConnectAsync("viewer", GatewayRoles.Dashboard, messagePack: true);
        var ack = await second.SubscribeAsync(new SubscriptionRequest(SubscriptionScopes.All, AfterEventId: lastSeen));
        await Task.Delay(300);
        await writing.CancelAsync();
        await writer;
        await second.WaitForAsync(LoggedIds()[^1]);

        Assert.False(ack.Reset);
        var all = first.Received.Select(e => e.Id).Concat(second.Received.Select(e => e.Id)).ToArray();
        Assert.Equal(LoggedIds(), all);
    }

    [Fact]
    public async Task Events_survive_a_restart_and_a_resume_after_it_misses_nothing()
    {
        using var database = TestDatabases.Create("restart.db");
        long lastSeen;
        string taskId;
        using (var before = new GatewayTestServer(database: database, nodeId: "node-r"))
        {
            using var agent = before.CreateHttpClient(GatewayTestServer.Token("agent-1", GatewayRoles.Agent));
            taskId = (await TasksApiTests.CreateAsync(agent, "survivor")).GetProperty("id").GetString()!;
            lastSeen = database.QueryLong("SELECT MAX(id) FROM gateway_events");
            (await TasksApiTests.ChangeStatusAsync(agent, taskId, new { status = "running" })).Dispose();
        }

        using var after = new GatewayTestServer(database: database, nodeId: "node-r");
        await using var client = new Subscriber(after.CreateClient(GatewayTestServer.Token("viewer", GatewayRoles.Dashboard)));
        await client.Client.StartAsync();
        var ack = await client.SubscribeAsync(new SubscriptionRequest(SubscriptionScopes.Task, taskId, AfterEventId: lastSeen));
        using (var agent = after.CreateHttpClient(GatewayTestServer.Token("agent-1", GatewayRoles.Agent)))
        {
            (await TasksApiTests.ChangeStatusAsync(agent, taskId, new { status = "completed" })).Dispose();
        }

        var head = database.QueryLong("SELECT MAX(id) FROM gateway_events");
        await client.WaitForAsync(head);

        Assert.False(ack.Reset);
        Assert.Equal(
            [EventTypes.TaskStatus, EventTypes.TaskStatus, EventTypes.TaskCompleted],
            client.Received.Select(e => e.Type).ToArray());
        Assert.Equal(head, client.Received.Last().Id);
    }

    [Fact]
    public async Task A_position_older_than_the_retained_log_gets_a_reset_answer()
    {
        await ScriptedRunAsync(1);
        var head = LoggedIds()[^1];
        // Past retention, then pruned as the gateway prunes: the floor is recorded with the deletion.
        _server.Store.Execute($"UPDATE gateway_events SET created_at = '2000-01-01 00:00:00{(_server.Store.IsPostgres ? "+00" : "")}' WHERE id <= 3");

        var retention = _server.Services.GetServices<Microsoft.Extensions.Hosting.IHostedService>().OfType<EventRetention>().Single();
        Assert.Equal(3, await retention.PruneAsync(CancellationToken.None));
        Assert.Equal(3, _server.Store.QueryLong("SELECT retention_floor FROM gateway_log"));

        await using var dashboard = await ConnectAsync("viewer", GatewayRoles.Dashboard);
        var tooOld = await dashboard.SubscribeAsync(new SubscriptionRequest(SubscriptionScopes.All, AfterEventId: 1));
        var stillThere = await dashboard.SubscribeAsync(new SubscriptionRequest(SubscriptionScopes.All, AfterEventId: 3));
        var fromTheFuture = await dashboard.SubscribeAsync(new SubscriptionRequest(SubscriptionScopes.All, AfterEventId: head + 1000));
        await dashboard.WaitForAsync(head);

        Assert.True(tooOld.Reset);
        Assert.False(stillThere.Reset);
        Assert.True(fromTheFuture.Reset);
        Assert.Equal(LoggedIds("id > 3"), dashboard.Received.Where(e => e.SubscriptionId == stillThere.SubscriptionId).Select(e => e.Id));
        Assert.DoesNotContain(dashboard.Received, e => e.SubscriptionId == tooOld.SubscriptionId);
    }

    [Fact]
    public async Task A_position_from_a_log_with_another_epoch_gets_a_reset_and_the_ack_names_this_logs_epoch()
    {
        await ScriptedRunAsync(1);
        var epoch = _server.Store.QueryString("SELECT epoch FROM gateway_log");
        await using var dashboard = await ConnectAsync("viewer", GatewayRoles.Dashboard, messagePack: true);

        var live = await dashboard.SubscribeAsync(new SubscriptionRequest(SubscriptionScopes.All));
        var sameLog = await dashboard.SubscribeAsync(new SubscriptionRequest(SubscriptionScopes.All, AfterEventId: 2, Epoch: epoch));
        var otherLog = await dashboard.SubscribeAsync(new SubscriptionRequest(SubscriptionScopes.All, AfterEventId: 2, Epoch: "0123456789abcdef0123456789abcdef"));
        var unchecked_ = await dashboard.SubscribeAsync(new SubscriptionRequest(SubscriptionScopes.All, AfterEventId: 2));
        var invalid = await Assert.ThrowsAsync<HubException>(() => dashboard.SubscribeAsync(new SubscriptionRequest(SubscriptionScopes.All, AfterEventId: 2, Epoch: "")));

        Assert.Matches("^[0-9a-f]{32}$", epoch);
        Assert.All(new[] { live, sameLog, otherLog, unchecked_ }, ack => Assert.Equal(epoch, ack.Epoch));
        Assert.Equal((false, true, false), (sameLog.Reset, otherLog.Reset, unchecked_.Reset));
        Assert.Equal(HubErrorCodes.InvalidArgument, HubErrorCodes.CodeOf(invalid.Message));
        Assert.Contains(": epoch must be", invalid.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(dashboard.Received, e => e.SubscriptionId == otherLog.SubscriptionId && e.Id <= otherLog.HeadEventId);
    }

    [Fact]
    public async Task Two_subscriptions_to_one_subject_are_routed_apart_and_an_unsubscribed_one_gets_nothing_more()
    {
        await using var dashboard = await ConnectAsync("viewer", GatewayRoles.Dashboard);
        await using var leaving = await ConnectAsync("leaver", GatewayRoles.Dashboard);
        var first = (await TasksApiTests.CreateAsync(Agent, "first")).GetProperty("id").GetString()!;
        var second = (await TasksApiTests.CreateAsync(Agent, "second")).GetProperty("id").GetString()!;
        var dropped = await dashboard.SubscribeAsync(new SubscriptionRequest(SubscriptionScopes.Task, first));
        var kept = await dashboard.SubscribeAsync(new SubscriptionRequest(SubscriptionScopes.Task, first));
        var other = await dashboard.SubscribeAsync(new SubscriptionRequest(SubscriptionScopes.Task, second));
        await leaving.SubscribeAsync(new SubscriptionRequest(SubscriptionScopes.Task, first));

        Assert.True(await dashboard.Client.Connection.InvokeAsync<bool>(nameof(IEventSubscriptionHub.Unsubscribe), dropped.SubscriptionId));
        await leaving.DisposeAsync();
        (await TasksApiTests.ChangeStatusAsync(Agent, first, new { status = "running" })).Dispose();
        (await TasksApiTests.ChangeStatusAsync(Agent, second, new { status = "running" })).Dispose();
        await dashboard.WaitForAsync(LoggedIds()[^1]);
        await Task.Delay(200);

        GatewayEvent[] Of(SubscriptionAck ack) => dashboard.Received.Where(e => e.SubscriptionId == ack.SubscriptionId).ToArray();
        Assert.Empty(Of(dropped));
        Assert.Equal(LoggedIds($"task_id = '{first}' AND id > {kept.HeadEventId}"), Of(kept).Select(e => e.Id));
        Assert.Equal(LoggedIds($"task_id = '{second}' AND id > {other.HeadEventId}"), Of(other).Select(e => e.Id));
        Assert.NotEmpty(Of(kept));
        Assert.NotEmpty(Of(other));
    }

    [Fact]
    public async Task Bad_subscriptions_get_coded_hub_errors_and_the_connection_stays_open()
    {
        await using var agent = await ConnectAsync("agent-1", GatewayRoles.Agent);

        var everything = await Assert.ThrowsAsync<HubException>(() => agent.SubscribeAsync(new SubscriptionRequest(SubscriptionScopes.All)));
        var badScope = await Assert.ThrowsAsync<HubException>(() => agent.SubscribeAsync(new SubscriptionRequest("galaxy", "x")));
        var noId = await Assert.ThrowsAsync<HubException>(() => agent.SubscribeAsync(new SubscriptionRequest(SubscriptionScopes.Task)));
        var badPriority = await Assert.ThrowsAsync<HubException>(() => agent.SubscribeAsync(new SubscriptionRequest(SubscriptionScopes.Task, "t", MinPriority: 9)));
        var wrongType = await Assert.ThrowsAsync<HubException>(() => agent.Client.Connection.InvokeAsync<SubscriptionAck>(nameof(IEventSubscriptionHub.Subscribe), 42));
        var own = await agent.SubscribeAsync(new SubscriptionRequest(SubscriptionScopes.Task, "some-task"));

        Assert.Equal(HubErrorCodes.Forbidden, HubErrorCodes.CodeOf(everything.Message));
        Assert.Equal(HubErrorCodes.InvalidArgument, HubErrorCodes.CodeOf(badScope.Message));
        Assert.Equal(HubErrorCodes.InvalidArgument, HubErrorCodes.CodeOf(noId.Message));
        Assert.Equal(HubErrorCodes.InvalidArgument, HubErrorCodes.CodeOf(badPriority.Message));
        Assert.NotNull(wrongType.Message);
        Assert.False(own.Reset);
        Assert.True(await agent.Client.Connection.InvokeAsync<bool>(nameof(IEventSubscriptionHub.Unsubscribe), own.SubscriptionId));
        Assert.False(await agent.Client.Connection.InvokeAsync<bool>(nameof(IEventSubscriptionHub.Unsubscribe), own.SubscriptionId));
        var noSubscription = await Assert.ThrowsAsync<HubException>(() => agent.Client.Connection.InvokeAsync<bool>(nameof(IEventSubscriptionHub.Unsubscribe), (string?)null));
        Assert.Equal(HubErrorCodes.InvalidArgument, HubErrorCodes.CodeOf(noSubscription.Message));
    }

    [Fact]
    public async Task Concurrent_changes_are_committed_in_groups()
    {
        var writer = _server.Services.GetRequiredService<ChangeWriter>();
        // The event retention's first prune is queued at start and counts as a change: one change made and answered
        // first puts it behind us (the writer is first in, first out).
        await TasksApiTests.CreateAsync(Agent, "warm-up");
        var transactionsBefore = writer.Transactions;
        var changesBefore = writer.Changes;

        await Task.WhenAll(Enumerable.Range(0, 200).Select(i => TasksApiTests.CreateAsync(Agent, $"burst {i}")));

        var changes = writer.Changes - changesBefore;
        var transactions = writer.Transactions - transactionsBefore;
        Assert.Equal(200, changes);
        Assert.True(transactions < changes, $"{transactions} transactions for {changes} changes");
        Assert.Equal(201, _server.Store.QueryLong("SELECT COUNT(*) FROM tasks"));
    }
}
