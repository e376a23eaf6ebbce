using System.Net;
using Gateway.Contracts;
using Gateway.Testing;
using Microsoft.AspNetCore.Http.Connections;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;

namespace Gateway.Server.Tests.Sessions;

/// <summary>Each limit gives its clear error or close reason, records why in the row, and leaves others unharmed.</summary>
public sealed class LimitsAndExpiryTests
{
    [Theory]
    [InlineData(false, "Development")]
    [InlineData(true, "Development")]
    [InlineData(false, "Production")]
    [InlineData(true, "Production")]
    public async Task An_oversized_message_closes_that_connection_with_the_reason_and_others_carry_on(bool messagePack, string environment)
    {
        // In Production SignalR's detailed errors are off: the close error carries the gateway's code all the same.
        using var server = new GatewayTestServer(new Dictionary<string, string?> { ["Limits:MaxMessageBytes"] = "4096", ["environment"] = environment });
        await using var big = server.CreateClient(GatewayTestServer.Token("big", GatewayRoles.Agent), messagePack: messagePack);
        await using var other = server.CreateClient(GatewayTestServer.Token("other", GatewayRoles.Agent));
        var session = await big.StartAsync();
        await other.StartAsync();

        await big.Connection.SendAsync(nameof(IGatewayHub.DisconnectSession), "x", new string('a', 10_000));
        var error = await big.Closed;

        Assert.Equal(HubErrorCodes.MessageTooLarge, HubErrorCodes.CodeOf(error?.Message));
        Assert.Contains("maximum message size", error?.Message, StringComparison.OrdinalIgnoreCase);
        await SessionRowTests.Eventually(() => SessionLifecycleTests.SessionState(server.Store, session.SessionId) == (0L, "message_too_large"));
        Assert.NotEqual(default, (await other.Connection.InvokeAsync<HeartbeatReply>(nameof(IGatewayHub.Heartbeat))).ServerTime);
    }

    [Fact]
    public async Task A_flood_over_the_rate_limit_gets_rate_limited_errors_and_the_connection_stays_open()
    {
        using var server = new GatewayTestServer(new Dictionary<string, string?>
        {
            ["Limits:InvocationsPerSecond"] = "20",
            ["Limits:InvocationBurst"] = "10",
        });
        await using var flooder = server.CreateClient(GatewayTestServer.Token("flooder", GatewayRoles.Agent));
        await flooder.StartAsync();

        var calls = Enumerable.Range(0, 60).Select(_ => flooder.Connection.InvokeAsync<HeartbeatReply>(nameof(IGatewayHub.Heartbeat))).ToList();
        try
        {
            await Task.WhenAll(calls).WaitAsync(TestHubConnections.Timeout);
        }
        catch (HubException)
        {
            // Expected for the calls over the limit; each is inspected below.
        }

        var refused = calls.Where(c => c.IsFaulted).Select(c => c.Exception!.InnerException).ToList();
        // The burst of 10 passes; the refill (20/s) adds more the slower the machine, but 60 at once cannot all pass.
        Assert.InRange(calls.Count(c => c.IsCompletedSuccessfully), 10, 59);
        Assert.NotEmpty(refused);
        Assert.All(refused, e => Assert.Equal(HubErrorCodes.RateLimited, HubErrorCodes.CodeOf(e!.Message)));

        await Task.Delay(600); // the bucket refills
        Assert.NotEqual(default, (await flooder.Connection.InvokeAsync<HeartbeatReply>(nameof(IGatewayHub.Heartbeat))).ServerTime);
        Assert.Equal(HubConnectionState.Connected, flooder.Connection.State);
    }

    [Fact]
    public async Task One_connection_too_many_is_refused_with_the_reason_recorded_and_the_others_keep_theirs()
    {
        using var server = new GatewayTestServer(new Dictionary<string, string?>
        {
            ["Limits:MaxConnectionsPerUser"] = "2",
            ["Limits:MaxConnections"] = "3",
        });
        var token = GatewayTestServer.Token("greedy", GatewayRoles.Agent);
        await using var first = server.CreateClient(token);
        await using var second = server.CreateClient(token);
        await using var third = server.CreateClient(token, clientId: "third");
        await first.StartAsync();
        await second.StartAsync();

        await third.Connection.StartAsync().WaitAsync(TestHubConnections.Timeout);
        var error = await third.Closed;

        Assert.Equal(HubErrorCodes.TooManyConnections, HubErrorCodes.CodeOf(error?.Message));
        await SessionRowTests.Eventually(() =>
            server.Store.QueryLong($"SELECT COUNT(*) FROM sessions WHERE client_id = 'third' AND NOT is_active AND {server.Store.JsonText("metadata", "closeReason")} = 'too_many_connections'") == 1);
        Assert.Equal(HubConnectionState.Connected, first.Connection.State);

        // The node-wide limit: a third user fits in the last slot, a fourth does not.
        await using var otherUser = server.CreateClient(GatewayTestServer.Token("modest", GatewayRoles.Agent));
        await otherUser.StartAsync();
        await using var overNode = server.CreateClient(GatewayTestServer.Token("late", GatewayRoles.Agent));
        await overNode.Connection.StartAsync().WaitAsync(TestHubConnections.Timeout);
        Assert.Equal(HubErrorCodes.TooManyConnections, HubErrorCodes.CodeOf((await overNode.Closed)?.Message));

        // A slot freed is a slot to take.
        await first.Connection.StopAsync();
        await SessionRowTests.Eventually(() => server.Store.QueryLong("SELECT COUNT(*) FROM sessions WHERE is_active") == 2);
        await using var again = server.CreateClient(token);
        await again.StartAsync();
    }

    [Theory]
    [InlineData(HttpTransportType.WebSockets)]
    [InlineData(HttpTransportType.LongPolling)]
    public async Task An_open_connection_is_closed_when_its_token_expires(HttpTransportType transport)
    {
        using var server = new GatewayTestServer();
        // Started before the token is minted: on a loaded machine a start can outlast the token's three seconds.
        _ = server.BaseAddress;
        await using var client = server.CreateClient(GatewayTestServer.Token("brief", TimeSpan.FromSeconds(3), GatewayRoles.Agent), transport);
        var established = await client.StartAsync();

        // Idle: nothing is sent after the handshake, so only the gateway's own timer can notice the expiry.
        var notice = await client.Closing.WaitAsync(TimeSpan.FromSeconds(20));
        await client.Closed.WaitAsync(TimeSpan.FromSeconds(20));

        Assert.Equal(HubErrorCodes.TokenExpired, notice.Code);
        Assert.True(notice.Reconnect);
        await SessionRowTests.Eventually(() => SessionLifecycleTests.SessionState(server.Store, established.SessionId) == (0L, "token_expired"));
    }

    [Fact]
    public async Task Connections_are_closed_each_at_its_own_token_expiry_and_the_others_stay_open()
    {
        // One timer for the node: after closing the first expired connection it must arm itself for the next.
        using var server = new GatewayTestServer();
        await using var lasting = server.CreateClient(GatewayTestServer.Token("lasting", TimeSpan.FromHours(1), GatewayRoles.Agent));
        await lasting.StartAsync();
        await using var sooner = server.CreateClient(GatewayTestServer.Token("sooner", TimeSpan.FromSeconds(3), GatewayRoles.Agent));
        await using var later = server.CreateClient(GatewayTestServer.Token("later", TimeSpan.FromSeconds(6), GatewayRoles.Agent));
        var soonerSession = (await sooner.StartAsync()).SessionId;
        var laterSession = (await later.StartAsync()).SessionId;

        var first = await sooner.Closing.WaitAsync(TimeSpan.FromSeconds(20));
        var laterStillOpen = !later.Closing.IsCompleted;
        var second = await later.Closing.WaitAsync(TimeSpan.FromSeconds(20));

        Assert.Equal(HubErrorCodes.TokenExpired, first.Code);
        Assert.True(laterStillOpen, "the connection with the later expiry was closed with the first");
        Assert.Equal(HubErrorCodes.TokenExpired, second.Code);
        await SessionRowTests.Eventually(() => SessionLifecycleTests.SessionState(server.Store, soonerSession) == (0L, "token_expired"));
        await SessionRowTests.Eventually(() => SessionLifecycleTests.SessionState(server.Store, laterSession) == (0L, "token_expired"));
        await lasting.Connection.InvokeAsync<HeartbeatReply>(nameof(IGatewayHub.Heartbeat)).WaitAsync(TestHubConnections.Timeout);
        Assert.Equal(HubConnectionState.Connected, lasting.Connection.State);
    }

    [Fact]
    public async Task A_token_valid_for_a_year_connects_and_stays_connected()
    {
        // The expiry timer cannot be armed further than ~49.7 days ahead (a timer's limit); longer tokens must still connect.
        using var server = new GatewayTestServer();
        await using var client = server.CreateClient(GatewayTestServer.Token("patient", TimeSpan.FromDays(365), GatewayRoles.Agent));
        var established = await client.StartAsync();

        await client.Connection.InvokeAsync<HeartbeatReply>(nameof(IGatewayHub.Heartbeat)).WaitAsync(TestHubConnections.Timeout);

        Assert.Equal(HubConnectionState.Connected, client.Connection.State);
        Assert.Equal(1L, SessionLifecycleTests.SessionState(server.Store, established.SessionId).IsActive);
    }

    [Fact]
    public async Task No_token_and_an_expired_token_cannot_connect()
    {
        using var server = new GatewayTestServer();
        await using var anonymous = server.CreateClient(token: null);
        await using var expired = server.CreateClient(GatewayTestServer.Token("late", TimeSpan.FromSeconds(-10), GatewayRoles.Agent));

        var noToken = await Assert.ThrowsAsync<HttpRequestException>(() => anonymous.Connection.StartAsync());
        var oldToken = await Assert.ThrowsAsync<HttpRequestException>(() => expired.Connection.StartAsync());

        Assert.Equal(HttpStatusCode.Unauthorized, noToken.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, oldToken.StatusCode);
        Assert.Equal(0, server.Store.QueryLong("SELECT COUNT(*) FROM sessions"));
    }
}
