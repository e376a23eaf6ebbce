using Gateway.Client.Tests.Infrastructure;
using Gateway.Contracts;
using Gateway.Testing;

namespace Gateway.Client.Tests;

/// <summary>What the client does when the gateway closes its connection: reconnect when told to, stay away when not.</summary>
public sealed class ReconnectTests
{
    private static readonly Dictionary<string, string?> FastReaper = new()
    {
        ["Sessions:StaleTimeoutSeconds"] = "2",
        ["Sessions:ReaperIntervalSeconds"] = "0.5",
        ["Sessions:HeartbeatIntervalSeconds"] = "1",
        ["Sessions:FlushIntervalSeconds"] = "0.2",
    };

    [Fact]
    public async Task A_client_reaped_as_stale_reconnects_as_a_new_session_of_the_same_client()
    {
        using var server = new GatewayTestServer(FastReaper);
        // No heartbeats: the reaper closes the session and the gateway aborts it after a notice with reconnect=true.
        await using var client = server.CreateGatewayClient(
            GatewayTestServer.Token("erin", GatewayRoles.Agent), clientId: "agent-stale", heartbeatInterval: Timeout.InfiniteTimeSpan);
        var events = new ClientEvents(client);
        await client.StartWithTimeoutAsync();
        var first = client.SessionId!;

        var closing = await events.Closing.NextAsync();
        await events.Reconnecting.NextAsync();
        var reconnected = await events.Reconnected.NextAsync();

        Assert.Equal((HubErrorCodes.Stale, true), (closing.Code, closing.Reconnect));
        Assert.NotEqual(first, reconnected.SessionId);
        Assert.Equal("agent-stale", reconnected.ClientId);
        Assert.Equal(["established", "closing:stale", "reconnecting", "reconnected"], events.Order.Take(4));
        var old = server.Row(first);
        Assert.Equal((false, "stale"), (old.IsActive, old.CloseReason));
        var renewed = server.Row(reconnected.SessionId);
        Assert.Equal("agent-stale", renewed.ClientId);
        Assert.Equal(0, events.Closed.Count);
    }

    [Fact]
    public async Task A_client_with_heartbeats_is_not_reaped()
    {
        // The same fast reaper, with a margin a loaded machine keeps: a beat every 0.5 s against a 4 s timeout.
        using var server = new GatewayTestServer(new Dictionary<string, string?>(FastReaper)
        {
            ["Sessions:StaleTimeoutSeconds"] = "4",
            ["Sessions:HeartbeatIntervalSeconds"] = "0.5",
        });
        await using var client = server.CreateGatewayClient(GatewayTestServer.Token("erin", GatewayRoles.Agent));
        var events = new ClientEvents(client);
        await client.StartWithTimeoutAsync();
        var sessionId = client.SessionId!;

        // One and a half stale timeouts: a client without heartbeats would have been reaped by now.
        await Task.Delay(TimeSpan.FromSeconds(6));

        Assert.Equal((GatewayConnectionState.Connected, sessionId), (client.State, client.SessionId));
        Assert.Equal(0, events.Closing.Count + events.Reconnecting.Count);
        Assert.True(server.Row(sessionId).IsActive);
    }

    [Fact]
    public async Task Reconnecting_subscribes_to_session_events_again()
    {
        using var server = new GatewayTestServer(FastReaper);
        await using var admin = server.CreateGatewayClient(GatewayTestServer.Token("root", GatewayRoles.Admin), heartbeatInterval: Timeout.InfiniteTimeSpan);
        var events = new ClientEvents(admin);
        await admin.StartWithTimeoutAsync();
        await admin.SubscribeSessions().WaitAsync(TestClients.Timeout);
        await events.Reconnected.NextAsync();

        await using var agent = server.CreateGatewayClient(GatewayTestServer.Token("erin", GatewayRoles.Agent), clientId: "agent-after-reconnect");
        await agent.StartWithTimeoutAsync();

        var opened = await events.SessionOpened.NextAsync(s => s.ClientId == "agent-after-reconnect");
        Assert.Equal(agent.SessionId, opened.Id);
    }

    [Fact]
    public async Task An_admin_disconnect_closes_the_client_for_good()
    {
        using var server = new GatewayTestServer();
        await using var admin = server.CreateGatewayClient(GatewayTestServer.Token("root", GatewayRoles.Admin));
        await using var client = server.CreateGatewayClient(GatewayTestServer.Token("frank", GatewayRoles.Agent), clientId: "agent-kicked");
        var events = new ClientEvents(client);
        await admin.StartWithTimeoutAsync();
        await client.StartWithTimeoutAsync();
        var sessionId = client.SessionId!;

        Assert.True(await admin.DisconnectSession(sessionId, "bye").WaitAsync(TestClients.Timeout));

        var closing = await events.Closing.NextAsync();
        var closed = await events.Closed.NextAsync();
        Assert.Equal((HubErrorCodes.DisconnectedByAdmin, "bye", false), (closing.Code, closing.Reason, closing.Reconnect));
        Assert.Equal((HubErrorCodes.DisconnectedByAdmin, "bye", false, sessionId), (closed.Code, closed.Message, closed.ReconnectAdvised, closed.SessionId));

        // No reconnect: the client stays down and opens no new session.
        await Task.Delay(TimeSpan.FromSeconds(2));
        Assert.Equal(GatewayConnectionState.Disconnected, client.State);
        Assert.Equal(0, events.Reconnecting.Count + events.Reconnected.Count);
        Assert.Equal(1, server.SessionCount("agent-kicked"));
        Assert.Equal("disconnected_by_admin", server.Row(sessionId).CloseReason);
        Assert.Equal(["established", "closing:disconnected_by_admin", "closed:disconnected_by_admin"], events.Order);
    }

    [Fact]
    public async Task A_message_too_large_fails_the_call_with_its_code_and_the_client_reconnects()
    {
        using var server = new GatewayTestServer(new Dictionary<string, string?> { ["Limits:MaxMessageBytes"] = "1024" });
        await using var client = server.CreateGatewayClient(GatewayTestServer.Token("jane", GatewayRoles.Admin), clientId: "agent-large");
        var events = new ClientEvents(client);
        await client.StartWithTimeoutAsync();
        var first = client.SessionId!;

        var failure = await Assert.ThrowsAsync<GatewayHubException>(() => client.DisconnectSession(first, new string('x', 4000)).WaitAsync(TestClients.Timeout));

        Assert.Equal(HubErrorCodes.MessageTooLarge, failure.Code);
        var reconnecting = await events.Reconnecting.NextAsync();
        var reconnected = await events.Reconnected.NextAsync();
        Assert.Contains("maximum message size", reconnecting!.Message, StringComparison.Ordinal);
        Assert.NotEqual(first, reconnected.SessionId);
        await TestClients.Eventually(() => !server.Row(first).IsActive, "the first session closed");
        Assert.Equal("message_too_large", server.Row(first).CloseReason);
        await client.Heartbeat().WaitAsync(TestClients.Timeout);
    }

    [Fact]
    public async Task A_reconnect_after_a_notice_that_keeps_failing_closes_with_reconnect_failed()
    {
        using var server = new GatewayTestServer(FastReaper);
        var token = GatewayTestServer.Token("erin", GatewayRoles.Agent);
        var tokenValid = true;
        var tokensAsked = 0;
        await using var client = new GatewayClient(new GatewayClientOptions
        {
            Url = server.BaseAddress,
            // Asked before every connect: the token is revoked after the first session, so reconnects get 401.
            AccessTokenProvider = _ =>
            {
                Interlocked.Increment(ref tokensAsked);
                return ValueTask.FromResult<string?>(Volatile.Read(ref tokenValid) ? token : "revoked");
            },
            HeartbeatInterval = Timeout.InfiniteTimeSpan,
            ReconnectPolicy = new GatewayReconnectPolicy { InitialDelay = TimeSpan.FromMilliseconds(50), MaxAttempts = 2 },
            ConnectTimeout = TestClients.Timeout,
        });
        var events = new ClientEvents(client);
        await client.StartWithTimeoutAsync();
        var asked = Volatile.Read(ref tokensAsked);
        Volatile.Write(ref tokenValid, false);

        var closed = await events.Closed.NextAsync();

        Assert.Equal(GatewayCloseCodes.ReconnectFailed, closed.Code);
        Assert.Contains("401", closed.Message, StringComparison.Ordinal);
        Assert.Equal(["established", "closing:stale", "reconnecting", "closed:reconnect_failed"], events.Order);
        Assert.True(Volatile.Read(ref tokensAsked) > asked, "the provider is asked again for the reconnects");
        Assert.Equal(GatewayConnectionState.Disconnected, client.State);
    }

    [Fact]
    public async Task Stopping_while_reconnecting_ends_the_reconnect()
    {
        using var server = new GatewayTestServer(FastReaper);
        await using var client = new GatewayClient(new GatewayClientOptions
        {
            Url = server.BaseAddress,
            AccessToken = GatewayTestServer.Token("erin", GatewayRoles.Agent),
            Transports = Microsoft.AspNetCore.Http.Connections.HttpTransportType.WebSockets,
            HeartbeatInterval = Timeout.InfiniteTimeSpan,
            ReconnectPolicy = new GatewayReconnectPolicy { InitialDelay = TimeSpan.FromSeconds(2), Jitter = 0 },
            ConnectTimeout = TestClients.Timeout,
        });
        var events = new ClientEvents(client);
        await client.StartWithTimeoutAsync();
        await events.Reconnecting.NextAsync();
        Assert.Equal(GatewayConnectionState.Reconnecting, client.State);

        await client.StopAsync().WaitAsync(TestClients.Timeout);

        Assert.Equal(GatewayCloseCodes.ClientClosed, (await events.Closed.NextAsync()).Code);
        await Task.Delay(TimeSpan.FromSeconds(3));
        Assert.Equal(GatewayConnectionState.Disconnected, client.State);
        Assert.Equal(0, events.Reconnected.Count);
        Assert.Equal(1, server.SessionCount(client.ClientId));
    }

    [Fact]
    public async Task When_reconnect_gives_up_closed_says_so()
    {
        var server = new GatewayTestServer();
        await using var client = new GatewayClient(new GatewayClientOptions
        {
            Url = server.BaseAddress,
            AccessToken = GatewayTestServer.Token("gina", GatewayRoles.Agent),
            Transports = Microsoft.AspNetCore.Http.Connections.HttpTransportType.WebSockets,
            ReconnectPolicy = new GatewayReconnectPolicy { InitialDelay = TimeSpan.FromMilliseconds(50), MaxAttempts = 2 },
            ConnectTimeout = TestClients.Timeout,
        });
        var events = new ClientEvents(client);
        await client.StartWithTimeoutAsync();

        // The node shuts down (it tells the client to reconnect elsewhere, when the notice makes it out) and there is nowhere else.
        await Task.Run(server.Dispose).WaitAsync(TimeSpan.FromSeconds(60));

        var closed = await events.Closed.NextAsync(timeout: TimeSpan.FromSeconds(30));
        Assert.Equal(GatewayCloseCodes.ReconnectFailed, closed.Code);
        Assert.True(closed.ReconnectAdvised);
        Assert.Equal(GatewayConnectionState.Disconnected, client.State);
        Assert.Equal(1, events.Reconnecting.Count);
        Assert.Equal(0, events.Reconnected.Count);
        Assert.All(events.Closing.All, notice => Assert.Equal((HubErrorCodes.ServerShutdown, true), (notice.Code, notice.Reconnect)));
    }
}
