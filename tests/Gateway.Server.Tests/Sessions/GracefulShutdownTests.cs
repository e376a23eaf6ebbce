using System.Diagnostics;
using System.Globalization;
using System.Net.WebSockets;
using System.Text;
using Gateway.Contracts;
using Gateway.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Gateway.Server.Tests.Sessions;

/// <summary>Stopping a real process with SIGTERM, as a service manager or Ctrl+C does.</summary>
public sealed class GracefulShutdownTests
{
    [Fact]
    public async Task SIGTERM_with_a_client_that_never_answers_exits_cleanly_within_the_timeout_and_closes_its_session()
    {
        const int timeoutSeconds = 3;
        using var database = new TemporarySqliteFile("shutdown.db");
        var environment = new Dictionary<string, string?>
        {
            ["DATABASE_URL"] = database.DatabaseUrl,
            ["Node__Id"] = "stopping-node",
            ["Node__ShutdownTimeoutSeconds"] = timeoutSeconds.ToString(CultureInfo.InvariantCulture),
            ["Auth__SigningKey"] = GatewayTestServer.SigningKey,
        };
        await using var server = await GatewayServerProcess.StartAsync(database.Directory, environment);
        Assert.False(server.HasExited, server.Output);

        using var stubborn = await ConnectWithoutEverReadingAgainAsync(server.BaseAddress);
        await WaitForActiveSessionsAsync(database, 1);

        var stopwatch = Stopwatch.StartNew();
        await server.TerminateAsync();
        var exitCode = await server.WaitForExitAsync(TimeSpan.FromSeconds(60));
        stopwatch.Stop();

        Assert.True(exitCode == 0, server.Output);
        // Generous upper bound for process exit on a loaded machine; the default (15 s) would also pass, the
        // point is that a client that never answers the close does not hold the node.
        Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(timeoutSeconds + 5), $"{stopwatch.Elapsed} {server.Output}");
        Assert.Equal(0L, ActiveSessions(database));
        Assert.Contains("Node stopping-node stopped", server.Output, StringComparison.Ordinal);
    }

    [Fact]
    public void The_shutdown_timeout_is_the_hosts()
    {
        using var server = new GatewayTestServer(new Dictionary<string, string?> { ["Node:ShutdownTimeoutSeconds"] = "7.5" });

        Assert.Equal(TimeSpan.FromSeconds(7.5), server.Services.GetRequiredService<IOptions<HostOptions>>().Value.ShutdownTimeout);
    }

    [Theory]
    [InlineData("0")]
    [InlineData("-1")]
    [InlineData("100000")]
    public async Task A_shutdown_timeout_out_of_range_refuses_to_start(string value)
    {
        using var database = new TemporarySqliteFile("bad-timeout.db");
        var environment = new Dictionary<string, string?>
        {
            ["DATABASE_URL"] = database.DatabaseUrl,
            ["Node__ShutdownTimeoutSeconds"] = value,
            ["Auth__SigningKey"] = GatewayTestServer.SigningKey,
        };
        await using var server = await GatewayServerProcess.StartAsync(database.Directory, environment);

        Assert.True(server.HasExited, server.Output);
        Assert.NotEqual(0, server.ExitCode);
        Assert.Contains("ShutdownTimeoutSeconds", server.Output, StringComparison.Ordinal);
    }

    private static async Task<ClientWebSocket> ConnectWithoutEverReadingAgainAsync(Uri baseAddress)
    {
        var socket = new ClientWebSocket();
        var token = GatewayTestServer.Token("stubborn", GatewayRoles.Agent);
        var uri = new Uri($"ws://{baseAddress.Authority}{GatewayRoutes.Hub}?access_token={token}");
        using var timeout = new CancellationTokenSource(TestHubConnections.Timeout);
        await socket.ConnectAsync(uri, timeout.Token);
        await socket.SendAsync(Encoding.UTF8.GetBytes("{\"protocol\":\"json\",\"version\":1}\u001e"), WebSocketMessageType.Text, true, timeout.Token);
        // Read the handshake answer, then never again: the shutdown notice and the close frame go unanswered.
        var buffer = new byte[4096];
        await socket.ReceiveAsync(buffer, timeout.Token);
        return socket;
    }

    private static async Task WaitForActiveSessionsAsync(TemporarySqliteFile database, long expected)
    {
        var deadline = DateTime.UtcNow + TestHubConnections.Timeout;
        while (ActiveSessions(database) != expected)
        {
            Assert.True(DateTime.UtcNow < deadline, $"expected {expected} active sessions");
            await Task.Delay(50);
        }
    }

    private static long ActiveSessions(TemporarySqliteFile database) =>
        database.QueryLong("SELECT count(*) FROM sessions WHERE is_active = 1");
}
