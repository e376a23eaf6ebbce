using Gateway.Client.Tests.Infrastructure;
using Gateway.Contracts;
using Gateway.Testing;
using Microsoft.AspNetCore.Http.Connections;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Gateway.Client.Tests;

/// <summary>
/// While another process holds the database's write lock past the busy timeout, the gateway refuses connects with
/// database_busy (no session row can be written); a client that lost its connection meanwhile keeps retrying with
/// its policy and is back, with a new session, once the lock is gone.
/// </summary>
public sealed class BusyDatabaseReconnectTests : IDisposable
{
    private readonly CapturingLoggerProvider _logs = new();
    private readonly GatewayTestServer _server;

    public BusyDatabaseReconnectTests()
    {
        _server = new GatewayTestServer(
            new Dictionary<string, string?>
            {
                ["Database:BusyTimeoutSeconds"] = "1",
                ["Limits:MaxMessageBytes"] = "1024",
            },
            configureServices: services => services.AddSingleton<ILoggerProvider>(_logs));
    }

    public void Dispose() => _server.Dispose();

    [Fact]
    public async Task A_reconnect_refused_with_database_busy_is_retried_until_the_database_is_free()
    {
        await using var client = new GatewayClient(new GatewayClientOptions
        {
            Url = _server.BaseAddress,
            AccessToken = GatewayTestServer.Token("kate", GatewayRoles.Admin),
            ClientId = "agent-busy",
            Transports = HttpTransportType.WebSockets,
            ReconnectPolicy = new EveryHalfSecond(),
            ConnectTimeout = TestClients.Timeout,
        });
        var events = new ClientEvents(client);
        await client.StartWithTimeoutAsync();
        var first = client.SessionId!;

        using (_server.Database.HoldWriteLock())
        {
            // An oversized message makes the gateway close the connection; the client starts reconnecting.
            await Assert.ThrowsAsync<GatewayHubException>(() => client.DisconnectSession(first, new string('x', 4000)).WaitAsync(TestClients.Timeout));
            await events.Reconnecting.NextAsync();
            await TestClients.Eventually(() => RefusedForBusy() >= 2, "two connects refused with database_busy");
            Assert.Equal(GatewayConnectionState.Reconnecting, client.State);
        }

        var reconnected = await events.Reconnected.NextAsync();

        Assert.NotEqual(first, reconnected.SessionId);
        Assert.Equal("agent-busy", reconnected.ClientId);
        Assert.Equal(GatewayConnectionState.Connected, client.State);
        Assert.Equal(1, events.Reconnecting.Count);
        Assert.Equal(0, events.Closed.Count);
        await client.Heartbeat().WaitAsync(TestClients.Timeout);
        Assert.True(_server.Row(reconnected.SessionId).IsActive);
    }

    /// <summary>The gateway's warning for each connect it refused because the database stayed locked.</summary>
    private int RefusedForBusy() => _logs.Lines.Count(line => line.Contains("GatewayHubFilter[3403]", StringComparison.Ordinal));

    private sealed class EveryHalfSecond : IRetryPolicy
    {
        public TimeSpan? NextRetryDelay(RetryContext retryContext) => TimeSpan.FromSeconds(0.5);
    }
}
