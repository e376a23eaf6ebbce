using System.Net;
using Gateway.Contracts;
using Gateway.Testing;
using Microsoft.AspNetCore.Http.Connections;
using Microsoft.AspNetCore.SignalR.Client;

namespace Gateway.Server.Tests.Auth;

/// <summary>
/// Browsers cannot set headers on WebSockets and EventSource, so their token travels in the query string
/// (<c>?access_token=</c>), and ASP.NET Core logs request URLs. With every category at Trace, through rules with and
/// without a provider (a provider's own rule outranks every rule without one), no log line may hold it: over every
/// transport, on REST, and for a refused token.
/// </summary>
public sealed class TokenLogLeakTests
{
    private static readonly string Token = GatewayTestServer.Token("browser-user", GatewayRoles.Dashboard);

    private static string Signature => Token[(Token.LastIndexOf('.') + 1)..];

    [Fact]
    public async Task A_token_in_the_query_string_never_reaches_a_log_provider_at_trace()
    {
        using var logs = new CapturingLoggerProvider();
        using var server = logs.StartServerLoggingEverything();

        await UseTheTokenInQueryStringsAsync(server.BaseAddress);

        var lines = logs.Lines;
        Assert.DoesNotContain(lines, line => line.Contains(Signature, StringComparison.Ordinal));
        AssertRequestLinesWereLogged(lines);
    }

    [Fact]
    public async Task A_token_in_the_query_string_never_reaches_the_console_at_trace()
    {
        using var database = new TemporarySqliteFile("gateway.db");
        await using var server = await GatewayServerProcess.StartAsync(database.Directory, new Dictionary<string, string?>
        {
            ["DATABASE_URL"] = database.DatabaseUrl,
            ["Auth__SigningKey"] = GatewayTestServer.SigningKey,
            ["Logging__LogLevel__Microsoft.AspNetCore"] = "Trace",
            ["Logging__Console__LogLevel__Default"] = "Trace",
            ["Logging__Console__LogLevel__Microsoft.AspNetCore.Hosting.Diagnostics"] = "Trace",
            ["Logging__Console__LogLevel__Microsoft.EntityFrameworkCore"] = "Warning",
        });
        Assert.False(server.HasExited, server.Output);

        await UseTheTokenInQueryStringsAsync(server.BaseAddress);
        // A graceful stop flushes the console logger's queue.
        await server.TerminateAsync();
        await server.WaitForExitAsync(TimeSpan.FromSeconds(30));

        var lines = server.Output.Split('\n');
        Assert.DoesNotContain(lines, line => line.Contains(Signature, StringComparison.Ordinal));
        AssertRequestLinesWereLogged(lines);
    }

    /// <summary>What a browser does, on each transport, plus REST calls and a refused token, all with ?access_token=.</summary>
    private static async Task UseTheTokenInQueryStringsAsync(Uri baseAddress)
    {
        foreach (var transport in (HttpTransportType[])[HttpTransportType.WebSockets, HttpTransportType.ServerSentEvents, HttpTransportType.LongPolling])
        {
            // The .NET client keeps the URL's query on negotiate and on every request of the transport; with no
            // AccessTokenProvider the query string is the only place the token is.
            var connection = new HubConnectionBuilder()
                .WithUrl(new Uri(baseAddress, $"{GatewayRoutes.Hub}?access_token={Token}"), transport)
                .Build();
            await using (var client = new TestHubClient(connection))
            {
                await client.StartAsync();
                await connection.InvokeAsync<HeartbeatReply>(nameof(IGatewayHub.Heartbeat)).WaitAsync(TestHubConnections.Timeout);
                await connection.StopAsync().WaitAsync(TestHubConnections.Timeout);
            }
        }

        using var http = new HttpClient { BaseAddress = baseAddress, Timeout = TestHubConnections.Timeout };
        // REST takes its token from the header only: the query's is dropped (401), and never logged either way.
        using (var refused = await http.GetAsync(new Uri($"/api/me?access_token={Token}", UriKind.Relative)))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        }

        using (var request = new HttpRequestMessage(HttpMethod.Get, new Uri($"/api/me?x=1&ACCESS_TOKEN={Token}&access%5Ftoken={Token}", UriKind.Relative)))
        {
            request.Headers.Authorization = new("Bearer", Token);
            using var answered = await http.SendAsync(request);
            Assert.Equal(HttpStatusCode.OK, answered.StatusCode);
        }

        // A refused token on the hub (the URL is logged before authentication decides).
        using var badToken = await http.PostAsync(new Uri($"{GatewayRoutes.Hub}/negotiate?negotiateVersion=1&access_token={Token}x", UriKind.Relative), null);
        Assert.Equal(HttpStatusCode.Unauthorized, badToken.StatusCode);
    }

    /// <summary>The request lines are there, with the rest of their query: the test would pass vacuously without.</summary>
    private static void AssertRequestLinesWereLogged(IReadOnlyCollection<string> lines)
    {
        Assert.Contains(lines, line => line.Contains("Request starting", StringComparison.Ordinal) && line.Contains($"{GatewayRoutes.Hub}/negotiate?negotiateVersion=1", StringComparison.Ordinal));
        Assert.Contains(lines, line => line.Contains("Request starting", StringComparison.Ordinal) && line.Contains($"{GatewayRoutes.Hub}?id=", StringComparison.Ordinal));
        Assert.Contains(lines, line => line.Contains("/api/me?x=1", StringComparison.Ordinal));
    }
}
