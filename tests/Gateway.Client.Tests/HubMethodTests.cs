using Gateway.Client.Tests.Infrastructure;
using Gateway.Contracts;
using Gateway.Testing;

namespace Gateway.Client.Tests;

/// <summary>Hub methods through the typed client: results, coded errors, and session events for admins.</summary>
public sealed class HubMethodTests : IDisposable
{
    private readonly GatewayTestServer _server = new();

    public void Dispose() => _server.Dispose();

    [Fact]
    public async Task A_non_admin_disconnecting_a_session_gets_forbidden_and_stays_connected()
    {
        await using var agent = _server.CreateGatewayClient(GatewayTestServer.Token("hank", GatewayRoles.Agent));
        await agent.StartWithTimeoutAsync();
        var sessionId = agent.SessionId!;

        var refused = await Assert.ThrowsAsync<GatewayHubException>(() => agent.DisconnectSession(sessionId, "bye").WaitAsync(TestClients.Timeout));

        Assert.Equal(HubErrorCodes.Forbidden, refused.Code);
        Assert.StartsWith("forbidden: DisconnectSession requires the role admin", refused.Message, StringComparison.Ordinal);
        Assert.Equal(GatewayConnectionState.Connected, agent.State);
        await agent.Heartbeat().WaitAsync(TestClients.Timeout);
        Assert.Equal(sessionId, agent.SessionId);
        Assert.True(_server.Row(sessionId).IsActive);
    }

    [Fact]
    public async Task Admin_errors_carry_their_codes()
    {
        await using var admin = _server.CreateGatewayClient(GatewayTestServer.Token("root", GatewayRoles.Admin));
        await admin.StartWithTimeoutAsync();

        var missing = await Assert.ThrowsAsync<GatewayHubException>(() => admin.DisconnectSession("no-such-session", "bye").WaitAsync(TestClients.Timeout));
        var invalid = await Assert.ThrowsAsync<GatewayHubException>(() => admin.DisconnectSession(admin.SessionId!, new string('x', 201)).WaitAsync(TestClients.Timeout));

        Assert.Equal(HubErrorCodes.NotFound, missing.Code);
        Assert.Equal(HubErrorCodes.InvalidArgument, invalid.Code);
        Assert.Equal(GatewayConnectionState.Connected, admin.State);
    }

    [Fact]
    public async Task A_subscribed_admin_sees_other_sessions_open_and_close()
    {
        await using var admin = _server.CreateGatewayClient(GatewayTestServer.Token("root", GatewayRoles.Admin));
        var events = new ClientEvents(admin);
        await admin.StartWithTimeoutAsync();
        await admin.SubscribeSessions().WaitAsync(TestClients.Timeout);

        await using var agent = _server.CreateGatewayClient(GatewayTestServer.Token("ivan", GatewayRoles.Agent), clientId: "agent-watched");
        await agent.StartWithTimeoutAsync();
        var opened = await events.SessionOpened.NextAsync(s => s.ClientId == "agent-watched");
        await agent.StopAsync().WaitAsync(TestClients.Timeout);
        var closed = await events.SessionClosed.NextAsync(s => s.ClientId == "agent-watched");

        Assert.Equal((agent.SessionId, "ivan", true), (opened.Id, opened.UserId, opened.IsActive));
        Assert.Equal((agent.SessionId, false), (closed.Id, closed.IsActive));
    }

    [Fact]
    public async Task A_non_admin_cannot_subscribe_to_sessions()
    {
        await using var agent = _server.CreateGatewayClient(GatewayTestServer.Token("ivan", GatewayRoles.Agent));
        await agent.StartWithTimeoutAsync();

        var refused = await Assert.ThrowsAsync<GatewayHubException>(() => agent.SubscribeSessions().WaitAsync(TestClients.Timeout));

        Assert.Equal(HubErrorCodes.Forbidden, refused.Code);
    }

    [Fact]
    public async Task Unsubscribing_stops_session_events()
    {
        await using var admin = _server.CreateGatewayClient(GatewayTestServer.Token("root", GatewayRoles.Admin));
        var events = new ClientEvents(admin);
        await admin.StartWithTimeoutAsync();
        await admin.SubscribeSessions().WaitAsync(TestClients.Timeout);
        await admin.UnsubscribeSessions().WaitAsync(TestClients.Timeout);

        await using var agent = _server.CreateGatewayClient(GatewayTestServer.Token("ivan", GatewayRoles.Agent));
        await agent.StartWithTimeoutAsync();
        // A heartbeat round trip after the agent's open: an event sent before it would have arrived by now.
        await admin.Heartbeat().WaitAsync(TestClients.Timeout);
        await Task.Delay(200);

        Assert.Equal(0, events.SessionOpened.Count);
    }

    [Fact]
    public async Task On_handles_a_target_by_name_until_disposed()
    {
        await using var admin = _server.CreateGatewayClient(GatewayTestServer.Token("root", GatewayRoles.Admin));
        var seen = new EventStream<SessionInfo>();
        var subscription = admin.On<SessionInfo>(nameof(IGatewayClient.SessionOpened), seen.Add);
        await admin.StartWithTimeoutAsync();
        await admin.SubscribeSessions().WaitAsync(TestClients.Timeout);

        await using (var first = _server.CreateGatewayClient(GatewayTestServer.Token("ivan", GatewayRoles.Agent), clientId: "first"))
        {
            await first.StartWithTimeoutAsync();
            Assert.Equal(first.SessionId, (await seen.NextAsync(s => s.ClientId == "first")).Id);
        }

        subscription.Dispose();
        var typed = new EventStream<SessionInfo>();
        admin.SessionOpened += typed.Add;
        await using var second = _server.CreateGatewayClient(GatewayTestServer.Token("ivan", GatewayRoles.Agent), clientId: "second");
        await second.StartWithTimeoutAsync();
        await typed.NextAsync(s => s.ClientId == "second");

        Assert.DoesNotContain(seen.All, s => s.ClientId == "second");
    }

    [Fact]
    public async Task A_handler_may_await_hub_methods_and_a_failing_handler_does_not_stop_the_others()
    {
        await using var admin = _server.CreateGatewayClient(GatewayTestServer.Token("root", GatewayRoles.Admin));
        var subscribed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        admin.Established += _ => throw new InvalidOperationException("a broken handler");
        admin.Established += async _ =>
        {
            // Inside an event: the result of this call comes through SignalR's receive loop, which must not be blocked.
            await admin.SubscribeSessions();
            subscribed.SetResult();
        };

        await admin.StartWithTimeoutAsync();

        await subscribed.Task.WaitAsync(TestClients.Timeout);
    }
}
