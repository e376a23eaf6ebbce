using Gateway.Client.Tests.Infrastructure;
using Gateway.Contracts;
using Gateway.Testing;

namespace Gateway.Client.Tests;

/// <summary>Heartbeats on the gateway's interval keep the session's last_heartbeat moving.</summary>
public sealed class HeartbeatTests : IDisposable
{
    private readonly GatewayTestServer _server = new(new Dictionary<string, string?>
    {
        ["Sessions:FlushIntervalSeconds"] = "0.2",
        ["Sessions:HeartbeatIntervalSeconds"] = "0.5",
        ["Sessions:StaleTimeoutSeconds"] = "5",
    });

    public void Dispose() => _server.Dispose();

    [Theory]
    [InlineData(GatewayProtocol.Json)]
    [InlineData(GatewayProtocol.MessagePack)]
    public async Task A_heartbeat_answers_the_server_time_and_moves_last_heartbeat_after_a_flush(GatewayProtocol protocol)
    {
        await using var client = _server.CreateGatewayClient(GatewayTestServer.Token("dave", GatewayRoles.Agent), protocol: protocol);
        var events = new ClientEvents(client);
        await client.StartWithTimeoutAsync();
        var sessionId = client.SessionId!;
        var opened = _server.Row(sessionId).LastHeartbeat;
        Assert.Equal(0.5, (await events.Established.NextAsync()).HeartbeatIntervalSeconds);

        var before = DateTime.UtcNow;
        var reply = await client.Heartbeat().WaitAsync(TestClients.Timeout);

        Assert.Equal(DateTimeKind.Utc, reply.ServerTime.Kind);
        Assert.InRange(reply.ServerTime, before.AddSeconds(-5), DateTime.UtcNow.AddSeconds(5));
        await TestClients.Eventually(() => _server.Row(sessionId).LastHeartbeat > opened, "last_heartbeat moved");
    }

    [Fact]
    public async Task The_timer_beats_on_the_interval_from_connection_established_and_keeps_the_session_alive()
    {
        await using var client = _server.CreateGatewayClient(GatewayTestServer.Token("dave", GatewayRoles.Agent));
        await client.StartWithTimeoutAsync();
        var sessionId = client.SessionId!;

        // 0.5 s from the gateway: several beats in a few seconds, and the reaper (5 s) leaves the session alone.
        await TestClients.Eventually(() => client.HeartbeatsSent >= 3, "three heartbeats");
        var first = _server.Row(sessionId).LastHeartbeat;
        await TestClients.Eventually(() => _server.Row(sessionId).LastHeartbeat > first, "last_heartbeat moved without calls");

        Assert.True(_server.Row(sessionId).IsActive);
        Assert.Equal(GatewayConnectionState.Connected, client.State);
        Assert.Equal(sessionId, client.SessionId);
    }

    [Fact]
    public async Task Stopping_stops_the_heartbeats()
    {
        await using var client = _server.CreateGatewayClient(GatewayTestServer.Token("dave", GatewayRoles.Agent), heartbeatInterval: TimeSpan.FromSeconds(0.1));
        await client.StartWithTimeoutAsync();
        await TestClients.Eventually(() => client.HeartbeatsSent >= 2, "two heartbeats");

        await client.StopAsync().WaitAsync(TestClients.Timeout);
        var sent = client.HeartbeatsSent;
        await Task.Delay(500);

        Assert.Equal(sent, client.HeartbeatsSent);
    }
}
