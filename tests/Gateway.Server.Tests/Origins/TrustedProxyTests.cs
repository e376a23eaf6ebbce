using Gateway.Contracts;
using Gateway.Testing;
using Microsoft.AspNetCore.Http.Connections;
using Microsoft.AspNetCore.SignalR.Client;

namespace Gateway.Server.Tests.Origins;

/// <summary>Behind a balancer, the client's address comes from X-Forwarded-For, and only from a configured proxy.</summary>
public sealed class TrustedProxyTests
{
    private static async Task<string> SessionsSeenWithForwardedForAsync(Dictionary<string, string?> settings)
    {
        using var server = new GatewayTestServer(settings);
        var connection = new HubConnectionBuilder()
            .WithUrl(server.HubUrl, HttpTransportType.WebSockets, options =>
            {
                options.AccessTokenProvider = () => Task.FromResult<string?>(GatewayTestServer.Token("viewer", GatewayRoles.Dashboard));
                options.Headers["X-Forwarded-For"] = "203.0.113.7";
            })
            .Build();
        await using var client = new TestHubClient(connection);
        await client.StartAsync();
        using var admin = server.CreateHttpClient(GatewayTestServer.Token("root", GatewayRoles.Admin));
        return await admin.GetStringAsync(new Uri("/api/sessions", UriKind.Relative));
    }

    [Fact]
    public async Task A_trusted_balancers_forwarded_address_is_the_clients()
    {
        var sessions = await SessionsSeenWithForwardedForAsync(new() { ["Proxy:TrustedProxies:0"] = "127.0.0.0/8" });

        Assert.Contains("203.0.113.7", sessions, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Without_a_trusted_proxy_a_forwarded_header_is_ignored()
    {
        var sessions = await SessionsSeenWithForwardedForAsync([]);

        Assert.DoesNotContain("203.0.113.7", sessions, StringComparison.Ordinal);
        Assert.Contains("127.0.0.1", sessions, StringComparison.Ordinal);
    }

    [Fact]
    public void An_entry_that_is_neither_an_address_nor_a_network_refuses_to_start()
    {
        var failure = Assert.ThrowsAny<Exception>(() =>
        {
            using var server = new GatewayTestServer(new Dictionary<string, string?> { ["Proxy:TrustedProxies:0"] = "balancer.local" });
            _ = server.BaseAddress;
        });

        Assert.Contains("Proxy: TrustedProxies holds 'balancer.local'", failure.ToString(), StringComparison.Ordinal);
    }
}
