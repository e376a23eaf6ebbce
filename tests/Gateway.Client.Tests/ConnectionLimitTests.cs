using Gateway.Client.Tests.Infrastructure;
using Gateway.Contracts;
using Gateway.Testing;

namespace Gateway.Client.Tests;

/// <summary>
/// A connection the gateway refuses is closed right after the handshake, before connection.established: StartAsync
/// throws with the gateway's code and no Closed event is raised (there was no session to close).
/// </summary>
public sealed class ConnectionLimitTests : IDisposable
{
    private readonly GatewayTestServer _server = new(new Dictionary<string, string?> { ["Limits:MaxConnectionsPerUser"] = "1" });

    public void Dispose() => _server.Dispose();

    [Fact]
    public async Task A_second_connection_of_the_same_user_fails_to_start_with_too_many_connections()
    {
        var token = GatewayTestServer.Token("carol", GatewayRoles.Agent);
        await using var first = _server.CreateGatewayClient(token);
        await using var second = _server.CreateGatewayClient(token, clientId: "second");
        var secondEvents = new ClientEvents(second);
        await first.StartWithTimeoutAsync();

        var refused = await Assert.ThrowsAsync<GatewayConnectException>(second.StartWithTimeoutAsync);

        Assert.Equal(HubErrorCodes.TooManyConnections, refused.Code);
        Assert.StartsWith("The gateway refused the connection: too_many_connections: ", refused.Message, StringComparison.Ordinal);
        Assert.Equal(GatewayConnectionState.Disconnected, second.State);
        Assert.Null(second.SessionId);
        Assert.Equal(0, secondEvents.Closed.Count + secondEvents.Established.Count + secondEvents.Reconnecting.Count);
        Assert.Equal(GatewayConnectionState.Connected, first.State);
        await first.Heartbeat().WaitAsync(TestClients.Timeout);

        // The refusal is recorded, and a later start succeeds once the first connection is gone.
        Assert.Equal(1, _server.Database.QueryLong("SELECT COUNT(*) FROM sessions WHERE client_id = 'second' AND is_active = 0"));
        await first.StopAsync().WaitAsync(TestClients.Timeout);
        await TestClients.Eventually(() => _server.Database.QueryLong("SELECT COUNT(*) FROM sessions WHERE is_active = 1") == 0, "the first session closed");
        await second.StartWithTimeoutAsync();
        Assert.Equal(GatewayConnectionState.Connected, second.State);
    }
}
