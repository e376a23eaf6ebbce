using Gateway.Client.Tests.Infrastructure;
using Gateway.Contracts;
using Gateway.Testing;
using Microsoft.AspNetCore.Http.Connections;
using Microsoft.AspNetCore.SignalR.Client;

namespace Gateway.Client.Tests;

/// <summary>
/// A reconnect the gateway refuses with a code that says to come back later (too_many_connections) ends SignalR's own
/// reconnect; the client carries on with the same policy until the gateway lets it in.
/// </summary>
public sealed class RefusedReconnectTests : IDisposable
{
    private readonly GatewayTestServer _server = new(new Dictionary<string, string?>
    {
        ["Limits:MaxConnectionsPerUser"] = "1",
        ["Limits:MaxMessageBytes"] = "1024",
    });

    public void Dispose() => _server.Dispose();

    [Fact]
    public async Task A_reconnect_refused_with_too_many_connections_is_retried_until_a_slot_is_free()
    {
        var token = GatewayTestServer.Token("kate", GatewayRoles.Admin);
        await using var client = new GatewayClient(new GatewayClientOptions
        {
            Url = _server.BaseAddress,
            AccessToken = token,
            ClientId = "agent-refused",
            Transports = HttpTransportType.WebSockets,
            // 3 s for another connection of the same user to take the only slot, then every 0.5 s until it leaves.
            ReconnectPolicy = new SlowFirstRetry(),
            ConnectTimeout = TestClients.Timeout,
        });
        var events = new ClientEvents(client);
        await client.StartWithTimeoutAsync();
        var first = client.SessionId!;

        // An oversized message makes the gateway close the connection; SignalR reconnects after 3 s.
        await Assert.ThrowsAsync<GatewayHubException>(() => client.DisconnectSession(first, new string('x', 4000)).WaitAsync(TestClients.Timeout));
        await events.Reconnecting.NextAsync();
        await TestClients.Eventually(() => !_server.Row(first).IsActive, "the first session closed");
        await using var other = _server.CreateGatewayClient(token, clientId: "slot-holder", heartbeatInterval: TimeSpan.FromSeconds(0.25));
        await other.StartWithTimeoutAsync();
        await TestClients.Eventually(() => RefusedAttempts() >= 1, "a reconnect attempt refused");
        Assert.Equal(GatewayConnectionState.Reconnecting, client.State);

        await other.StopAsync().WaitAsync(TestClients.Timeout);
        var reconnected = await events.Reconnected.NextAsync();

        Assert.NotEqual(first, reconnected.SessionId);
        Assert.Equal("agent-refused", reconnected.ClientId);
        Assert.Equal(GatewayConnectionState.Connected, client.State);
        Assert.Equal(1, events.Reconnecting.Count);
        Assert.Equal(0, events.Closed.Count);
        await client.Heartbeat().WaitAsync(TestClients.Timeout);
    }

    private long RefusedAttempts() => _server.Database.QueryLong(
        "SELECT COUNT(*) FROM sessions WHERE client_id = 'agent-refused' AND json_extract(metadata, '$.closeReason') = 'too_many_connections'");

    private sealed class SlowFirstRetry : IRetryPolicy
    {
        public TimeSpan? NextRetryDelay(RetryContext retryContext) =>
            retryContext.PreviousRetryCount == 0 ? TimeSpan.FromSeconds(3) : TimeSpan.FromSeconds(0.5);
    }
}
