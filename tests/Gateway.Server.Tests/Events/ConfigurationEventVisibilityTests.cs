using System.Net.Http.Json;
using Gateway.Contracts;
using Gateway.Server.Tests.Orchestration;
using Gateway.Testing;
using Microsoft.AspNetCore.SignalR.Client;

namespace Gateway.Server.Tests.Events;

/// <summary>The configuration API is admin-only, and so are its events: a dashboard subscribed to all never sees config.*.</summary>
public sealed class ConfigurationEventVisibilityTests : IDisposable
{
    private readonly GatewayTestServer _server = new();

    public void Dispose() => _server.Dispose();

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Config_events_reach_admins_only_live_and_in_replay(bool messagePack)
    {
        var admin = _server.As("root", GatewayRoles.Admin);
        (await admin.PutAsJsonAsync(new Uri("/api/configurations/agents.max_parallel", UriKind.Relative), new { value = "4", valueType = "integer" })).EnsureSuccessStatusCode();
        var before = (await TasksApiTests.CreateAsync(_server.As("agent-1", GatewayRoles.Agent), "before")).GetProperty("id").GetString()!;

        await using var dashboardLive = await SubscribeAsync("viewer", GatewayRoles.Dashboard, messagePack, afterEventId: null);
        await using var adminLive = await SubscribeAsync("root", GatewayRoles.Admin, messagePack, afterEventId: null);
        (await admin.PutAsJsonAsync(new Uri("/api/configurations/agents.max_parallel", UriKind.Relative), new { value = "8", valueType = "integer" })).EnsureSuccessStatusCode();
        var after = (await TasksApiTests.CreateAsync(_server.As("agent-1", GatewayRoles.Agent), "after")).GetProperty("id").GetString()!;

        await using var dashboardReplay = await SubscribeAsync("viewer", GatewayRoles.Dashboard, messagePack, afterEventId: 0);
        await using var adminReplay = await SubscribeAsync("root", GatewayRoles.Admin, messagePack, afterEventId: 0);

        foreach (var subscriber in new[] { dashboardLive, adminLive, dashboardReplay, adminReplay })
        {
            await WaitForTaskAsync(subscriber, after);
        }

        Assert.DoesNotContain(dashboardLive.Received, e => e.Type.StartsWith("config.", StringComparison.Ordinal));
        Assert.DoesNotContain(dashboardReplay.Received, e => e.Type.StartsWith("config.", StringComparison.Ordinal));
        Assert.Single(adminLive.Received, e => e.Type == EventTypes.ConfigChanged);
        Assert.Equal(2, adminReplay.Received.Count(e => e.Type == EventTypes.ConfigChanged));
        Assert.Contains(dashboardReplay.Received, e => e.TaskId == before);
    }

    private async Task<EventStreamTests.Subscriber> SubscribeAsync(string user, string role, bool messagePack, long? afterEventId)
    {
        var subscriber = new EventStreamTests.Subscriber(_server.CreateClient(GatewayTestServer.Token(user, role), messagePack: messagePack));
        await subscriber.Client.StartAsync();
        await subscriber.Client.Connection.InvokeAsync<SubscriptionAck>(
            nameof(IEventSubscriptionHub.Subscribe), new SubscriptionRequest(SubscriptionScopes.All, AfterEventId: afterEventId)).WaitAsync(TestHubConnections.Timeout);
        return subscriber;
    }

    private static async Task WaitForTaskAsync(EventStreamTests.Subscriber subscriber, string taskId)
    {
        var deadline = DateTime.UtcNow + TestHubConnections.Timeout;
        while (!subscriber.Received.Any(e => e.TaskId == taskId))
        {
            Assert.True(DateTime.UtcNow < deadline, $"no event of task {taskId}; got {subscriber.Received.Count}");
            await Task.Delay(20);
        }
    }
}
