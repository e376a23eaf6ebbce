using System.Net.Http.Json;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using Gateway.Contracts;
using Gateway.Testing;

namespace Gateway.Server.Tests.Auth;

/// <summary>
/// Browsers cannot set headers on WebSockets and EventSource, so their token travels in the query string
/// (<c>?access_token=</c>), and ASP.NET Core logs request URLs. With every category at Trace, no log line may hold it.
/// </summary>
public sealed class TokenLogLeakTests : IDisposable
{
    private readonly CapturingLoggerProvider _logs = new();
    private readonly GatewayTestServer _server;

    public TokenLogLeakTests()
    {
        _server = _logs.StartServerLoggingEverything();
    }

    public void Dispose()
    {
        _server.Dispose();
        _logs.Dispose();
    }

    [Fact]
    public async Task A_token_in_the_query_string_never_reaches_a_log()
    {
        var token = GatewayTestServer.Token("browser-user", GatewayRoles.Dashboard);
        using var http = _server.CreateHttpClient();

        // What the JavaScript client does: negotiate, then the WebSocket, both with ?access_token=.
        using var negotiate = await http.PostAsync(new Uri($"{GatewayRoutes.Hub}/negotiate?negotiateVersion=1&access_token={token}", UriKind.Relative), null);
        negotiate.EnsureSuccessStatusCode();
        var connectionToken = (await negotiate.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("connectionToken").GetString();
        using var socket = new ClientWebSocket();
        using var timeout = new CancellationTokenSource(TestHubConnections.Timeout);
        await socket.ConnectAsync(new Uri($"ws://{_server.BaseAddress.Authority}{GatewayRoutes.Hub}?id={connectionToken}&access_token={token}"), timeout.Token);
        await socket.SendAsync(Encoding.UTF8.GetBytes("{\"protocol\":\"json\",\"version\":1}\u001e"), WebSocketMessageType.Text, true, timeout.Token);
        var buffer = new byte[8192];
        var received = await socket.ReceiveAsync(buffer, timeout.Token);
        Assert.StartsWith("{}", Encoding.UTF8.GetString(buffer, 0, received.Count), StringComparison.Ordinal);
        // A refused token too (the URL is logged before authentication decides).
        using var refused = await http.GetAsync(new Uri($"{GatewayRoutes.Hub}/negotiate?access_token={token}x", UriKind.Relative));
        await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, null, timeout.Token);

        var lines = _logs.Lines;
        Assert.Contains(lines, line => line.Contains("/hubs/gateway", StringComparison.Ordinal));
        var signature = token[(token.LastIndexOf('.') + 1)..];
        Assert.DoesNotContain(lines, line => line.Contains(signature, StringComparison.Ordinal));
    }
}
