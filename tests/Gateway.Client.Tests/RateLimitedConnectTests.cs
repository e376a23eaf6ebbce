using System.Net;
using Gateway.Client.Tests.Infrastructure;
using Gateway.Contracts;
using Gateway.Testing;

namespace Gateway.Client.Tests;

/// <summary>A start refused by the gateway's per-address limit on connection attempts (429) fails with rate_limited, a code that says to come back.</summary>
public sealed class RateLimitedConnectTests : IDisposable
{
    // One WebSocket connection takes two attempts (negotiate, then the socket); the burst has room for exactly one.
    private readonly GatewayTestServer _server = new(new Dictionary<string, string?>
    {
        ["RateLimits:ConnectsPerSecond"] = "1",
        ["RateLimits:ConnectBurst"] = "2",
    });

    public void Dispose() => _server.Dispose();

    [Fact]
    public async Task A_start_over_the_connect_limit_fails_with_rate_limited_and_the_status()
    {
        var token = GatewayTestServer.Token("dora", GatewayRoles.Agent);
        await using var first = _server.CreateGatewayClient(token);
        await using var second = _server.CreateGatewayClient(token, clientId: "second");
        await first.StartWithTimeoutAsync();

        var refused = await Assert.ThrowsAsync<GatewayConnectException>(second.StartWithTimeoutAsync);

        Assert.Equal(HubErrorCodes.RateLimited, refused.Code);
        Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
        Assert.Null(second.SessionId);
        Assert.Equal(GatewayConnectionState.Connected, first.State);
    }
}
