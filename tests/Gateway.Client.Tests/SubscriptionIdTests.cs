using System.Collections.Concurrent;
using Gateway.Client.Tests.Infrastructure;
using Gateway.Contracts;
using Gateway.Testing;

namespace Gateway.Client.Tests;

/// <summary>
/// Subscription ids the client derives itself: the same for the same subscription in every client (so the gateway can
/// serialise an event once for all of them), distinct within one client, and events still reach the right handler.
/// </summary>
public sealed class SubscriptionIdTests : IDisposable
{
    private readonly GatewayTestServer _server = new();

    public void Dispose() => _server.Dispose();

    [Fact]
    public async Task Clients_derive_the_same_id_for_the_same_subscription_and_distinct_ids_within_one_client()
    {
        var token = GatewayTestServer.Token("viewer", GatewayRoles.Dashboard);
        await using var json = _server.CreateGatewayClient(token, protocol: GatewayProtocol.Json);
        await using var messagePack = _server.CreateGatewayClient(token, protocol: GatewayProtocol.MessagePack);
        await json.StartWithTimeoutAsync();
        await messagePack.StartWithTimeoutAsync();
        var agent = _server.As("agent-1", GatewayRoles.Agent);
        var taskId = await CreateTaskAsync(agent);
        var request = new SubscriptionRequest(SubscriptionScopes.Task, taskId, Types: [EventTypes.TaskStatus]);
        var jsonEvents = new ConcurrentQueue<GatewayEvent>();
        var twinEvents = new ConcurrentQueue<GatewayEvent>();
        var messagePackEvents = new ConcurrentQueue<GatewayEvent>();

        var first = await json.SubscribeAsync(request, Collect(jsonEvents)).WaitAsync(TestClients.Timeout);
        var twin = await json.SubscribeAsync(request, Collect(twinEvents)).WaitAsync(TestClients.Timeout);
        var other = await messagePack.SubscribeAsync(request, Collect(messagePackEvents)).WaitAsync(TestClients.Timeout);
        var differentFilter = await messagePack.SubscribeAsync(request with { MinPriority = EventPriorities.High }, _ => Task.CompletedTask)
            .WaitAsync(TestClients.Timeout);
        (await agent.PostAsync(new Uri($"/api/tasks/{taskId}/status", UriKind.Relative), Json("""{"status":"running"}"""))).EnsureSuccessStatusCode();

        Assert.Equal(first.Id, other.Id);
        Assert.NotEqual(first.Id, twin.Id);
        Assert.NotEqual(first.Id, differentFilter.Id);
        await Eventually(() => !jsonEvents.IsEmpty && !twinEvents.IsEmpty && !messagePackEvents.IsEmpty);
        Assert.All(jsonEvents, e => Assert.Equal(first.Id, e.SubscriptionId));
        Assert.All(twinEvents, e => Assert.Equal(twin.Id, e.SubscriptionId));
        Assert.All(messagePackEvents, e => Assert.Equal(other.Id, e.SubscriptionId));
        Assert.Equal(jsonEvents.Select(e => (e.Id, e.Payload)), messagePackEvents.Select(e => (e.Id, e.Payload)));
    }

    private static Func<GatewayEvent, Task> Collect(ConcurrentQueue<GatewayEvent> into) => e =>
    {
        into.Enqueue(e);
        return Task.CompletedTask;
    };

    private static StringContent Json(string body) => new(body, System.Text.Encoding.UTF8, "application/json");

    private static async Task<string> CreateTaskAsync(HttpClient agent)
    {
        using var created = await agent.PostAsync(new Uri("/api/tasks", UriKind.Relative), Json("""{"title":"shared","taskType":"test"}"""));
        created.EnsureSuccessStatusCode();
        using var document = System.Text.Json.JsonDocument.Parse(await created.Content.ReadAsStringAsync());
        return document.RootElement.GetProperty("id").GetString()!;
    }

    private static async Task Eventually(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow + TestClients.Timeout;
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "events did not arrive");
            await Task.Delay(20);
        }
    }
}
