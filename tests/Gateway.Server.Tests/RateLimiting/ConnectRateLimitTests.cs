using System.Net;
using System.Net.Http.Headers;
using System.Net.WebSockets;
using Gateway.Contracts;
using Gateway.Testing;
using Microsoft.AspNetCore.Http.Connections;
using Microsoft.AspNetCore.SignalR.Client;
using static Gateway.Server.Tests.RateLimiting.RateLimitedResponses;

namespace Gateway.Server.Tests.RateLimiting;

/// <summary>
/// Connection attempts count against their client address: every negotiate and every request that opens a WebSocket or
/// an SSE stream. Long-polling polls and transport sends never do, and attempts refused here never reach the hub.
/// </summary>
public sealed class ConnectRateLimitTests
{
    private static readonly string Token = GatewayTestServer.Token("flooder", GatewayRoles.Agent);

    private static HttpRequestMessage Negotiate() => new(HttpMethod.Post, new Uri("/hubs/gateway/negotiate?negotiateVersion=1", UriKind.Relative))
    {
        Headers = { Authorization = new AuthenticationHeaderValue("Bearer", Token) },
    };

    [Fact]
    public async Task A_negotiate_flood_from_one_address_gets_429_and_neither_it_nor_the_connects_after_it_reach_the_hub()
    {
        using var server = new GatewayTestServer(new Dictionary<string, string?>
        {
            ["RateLimits:ConnectsPerSecond"] = "1",
            ["RateLimits:ConnectBurst"] = "5",
        });
        using var client = server.CreateHttpClient();

        var negotiates = await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => client.SendAsync(Negotiate())));

        Assert.InRange(negotiates.Count(r => r.StatusCode == HttpStatusCode.OK), 5, 6);
        foreach (var refused in negotiates.Where(r => r.StatusCode != HttpStatusCode.OK))
        {
            await AssertRateLimitedAsync(refused);
        }

        // A SignalR client from the same address, and a WebSocket that skips negotiation, are refused before the hub.
        await using var hub = server.CreateClient(Token);
        var failure = await Assert.ThrowsAsync<HttpRequestException>(() => hub.Connection.StartAsync().WaitAsync(TestHubConnections.Timeout));
        Assert.Equal(HttpStatusCode.TooManyRequests, failure.StatusCode);
        using var socket = new ClientWebSocket();
        socket.Options.CollectHttpResponseDetails = true;
        var upgrade = new UriBuilder(server.HubUrl) { Scheme = "ws", Query = "access_token=" + Token }.Uri;
        await Assert.ThrowsAsync<WebSocketException>(() => socket.ConnectAsync(upgrade, CancellationToken.None).WaitAsync(TestHubConnections.Timeout));
        Assert.Equal(HttpStatusCode.TooManyRequests, socket.HttpStatusCode);
        Assert.Equal(0, server.Database.QueryLong("SELECT COUNT(*) FROM sessions"));

        // Another address has its own bucket.
        using var neighbour = FromAddress(server.BaseAddress, "127.0.0.2");
        using (var other = await neighbour.SendAsync(Negotiate()))
        {
            Assert.Equal(HttpStatusCode.OK, other.StatusCode);
        }

        foreach (var response in negotiates)
        {
            response.Dispose();
        }
    }

    [Fact]
    public async Task Behind_a_proxy_with_forwarded_headers_on_each_forwarded_address_has_its_own_bucket()
    {
        using var server = new GatewayTestServer(new Dictionary<string, string?>
        {
            ["RateLimits:ConnectsPerSecond"] = "1",
            ["RateLimits:ConnectBurst"] = "1",
            ["FORWARDEDHEADERS_ENABLED"] = "true",
        });
        using var proxy = server.CreateHttpClient();

        async Task<HttpStatusCode> NegotiateForAsync(string client)
        {
            using var request = Negotiate();
            request.Headers.Add("X-Forwarded-For", client);
            using var response = await proxy.SendAsync(request);
            return response.StatusCode;
        }

        Assert.Equal(HttpStatusCode.OK, await NegotiateForAsync("203.0.113.7"));
        Assert.Equal(HttpStatusCode.TooManyRequests, await NegotiateForAsync("203.0.113.7"));
        Assert.Equal(HttpStatusCode.OK, await NegotiateForAsync("198.51.100.9"));
    }

    [Theory]
    [InlineData(HttpTransportType.LongPolling)]
    [InlineData(HttpTransportType.ServerSentEvents)]
    public async Task A_long_polling_or_sse_client_keeps_working_for_many_polls_and_sends_under_a_tight_connect_limit(HttpTransportType transport)
    {
        // Two attempts: exactly an SSE connection's negotiate and stream (long polling needs only its negotiate).
        using var server = new GatewayTestServer(new Dictionary<string, string?>
        {
            ["RateLimits:ConnectsPerSecond"] = "1",
            ["RateLimits:ConnectBurst"] = "2",
        });
        await using var client = server.CreateClient(Token, transport);
        await client.StartAsync();

        for (var i = 0; i < 60; i++)
        {
            await client.Connection.InvokeAsync<HeartbeatReply>(nameof(IGatewayHub.Heartbeat)).WaitAsync(TestHubConnections.Timeout);
        }

        Assert.Equal(HubConnectionState.Connected, client.Connection.State);
    }
}
