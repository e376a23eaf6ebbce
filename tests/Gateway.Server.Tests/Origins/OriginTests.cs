using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using Gateway.Contracts;
using Gateway.Testing;

namespace Gateway.Server.Tests.Origins;

/// <summary>
/// A page of a foreign web origin cannot use the hub over any transport, nor change anything over REST; the gateway's
/// own origin, Cors:AllowedOrigins and clients that send no Origin (every client but a browser) can.
/// </summary>
public sealed class OriginTests : IDisposable
{
    private const string Configured = "https://ops.example.com";
    private const string Foreign = "http://evil.example";
    private static readonly string Token = GatewayTestServer.Token("viewer", GatewayRoles.Dashboard);

    private readonly GatewayTestServer _server = new(new Dictionary<string, string?> { ["Cors:AllowedOrigins:0"] = Configured });
    private readonly HttpClient _http;

    public OriginTests() => _http = _server.CreateHttpClient(Token);

    public void Dispose()
    {
        _http.Dispose();
        _server.Dispose();
    }

    /// <summary>"own" and "own-https" stand for the server's origin (known once it listens) and the same host and port over https.</summary>
    private string? Resolve(string? origin) => origin switch
    {
        "own" => $"http://{_server.BaseAddress.Authority}",
        "own-https" => $"https://{_server.BaseAddress.Authority}",
        "other-port" => $"http://{_server.BaseAddress.Host}:1",
        _ => origin,
    };

    private async Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, string? origin, Action<HttpRequestMessage>? configure = null)
    {
        using var request = new HttpRequestMessage(method, new Uri(path, UriKind.Relative));
        if (Resolve(origin) is { } value)
        {
            request.Headers.TryAddWithoutValidation("Origin", value);
        }

        configure?.Invoke(request);
        return await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
    }

    private async Task<string> NegotiateAsync()
    {
        using var negotiate = await SendAsync(HttpMethod.Post, $"{GatewayRoutes.Hub}/negotiate?negotiateVersion=1", origin: null);
        negotiate.EnsureSuccessStatusCode();
        return (await negotiate.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("connectionToken").GetString()!;
    }

    /// <summary>403 with code forbidden: problem details, or "forbidden: ..." text to a client that accepts no JSON (an EventSource).</summary>
    private static async Task AssertRefusedAsync(HttpResponseMessage response)
    {
        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        if (response.Content.Headers.ContentType?.MediaType == "application/problem+json")
        {
            var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
            Assert.Equal(HubErrorCodes.Forbidden, problem.GetProperty("code").GetString());
            Assert.Contains("Cors:AllowedOrigins", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        }
        else
        {
            var text = await response.Content.ReadAsStringAsync();
            Assert.StartsWith(HubErrorCodes.Forbidden + ": ", text, StringComparison.Ordinal);
            Assert.Contains("Cors:AllowedOrigins", text, StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData(null, true)]
    [InlineData("own", true)]
    [InlineData(Configured, true)]
    [InlineData("HTTPS://OPS.EXAMPLE.COM:443", true)]
    [InlineData(Foreign, false)]
    [InlineData("null", false)]
    [InlineData("other-port", false)]
    [InlineData("own-https", false)]
    [InlineData("https://ops.example.com.evil.example", false)]
    public async Task Negotiate_is_refused_for_a_foreign_origin(string? origin, bool allowed)
    {
        using var response = await SendAsync(HttpMethod.Post, $"{GatewayRoutes.Hub}/negotiate?negotiateVersion=1", origin);

        if (allowed)
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }
        else
        {
            await AssertRefusedAsync(response);
        }
    }

    [Theory]
    [InlineData(null, true)]
    [InlineData("own", true)]
    [InlineData(Configured, true)]
    [InlineData(Foreign, false)]
    [InlineData("other-port", false)]
    public async Task A_websocket_upgrade_is_refused_for_a_foreign_origin(string? origin, bool allowed)
    {
        using var socket = new ClientWebSocket();
        socket.Options.CollectHttpResponseDetails = true;
        if (Resolve(origin) is { } value)
        {
            socket.Options.SetRequestHeader("Origin", value);
        }

        // Without negotiation, as a WebSocket-only client may connect.
        var url = new Uri($"ws://{_server.BaseAddress.Authority}{GatewayRoutes.Hub}?access_token={Token}");
        using var timeout = new CancellationTokenSource(TestHubConnections.Timeout);
        if (allowed)
        {
            await socket.ConnectAsync(url, timeout.Token);
            Assert.Equal(WebSocketState.Open, socket.State);
            await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, timeout.Token);
        }
        else
        {
            await Assert.ThrowsAsync<WebSocketException>(() => socket.ConnectAsync(url, timeout.Token));
            Assert.Equal(HttpStatusCode.Forbidden, socket.HttpStatusCode);
        }
    }

    [Fact]
    public async Task An_sse_stream_is_refused_for_a_foreign_origin_and_opens_for_the_own_one()
    {
        void EventStream(HttpRequestMessage request) => request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/event-stream"));
        var id = await NegotiateAsync();

        using var refused = await SendAsync(HttpMethod.Get, $"{GatewayRoutes.Hub}?id={id}", Foreign, EventStream);
        using var opened = await SendAsync(HttpMethod.Get, $"{GatewayRoutes.Hub}?id={id}", "own", EventStream);

        await AssertRefusedAsync(refused);
        Assert.Equal(HttpStatusCode.OK, opened.StatusCode);
        Assert.Equal("text/event-stream", opened.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task Long_polls_and_sends_are_refused_for_a_foreign_origin_and_the_connection_serves_its_own_page()
    {
        var id = await NegotiateAsync();
        static StringContent Handshake() => new("{\"protocol\":\"json\",\"version\":1}\u001e", Encoding.UTF8, "text/plain");

        using var foreignPoll = await SendAsync(HttpMethod.Get, $"{GatewayRoutes.Hub}?id={id}", Foreign);
        using var ownPoll = await SendAsync(HttpMethod.Get, $"{GatewayRoutes.Hub}?id={id}", "own");
        using var foreignSend = await SendAsync(HttpMethod.Post, $"{GatewayRoutes.Hub}?id={id}", Foreign, r => r.Content = Handshake());
        using var foreignClose = await SendAsync(HttpMethod.Delete, $"{GatewayRoutes.Hub}?id={id}", Foreign);
        using var configuredSend = await SendAsync(HttpMethod.Post, $"{GatewayRoutes.Hub}?id={id}", Configured, r => r.Content = Handshake());

        await AssertRefusedAsync(foreignPoll);
        Assert.Equal(HttpStatusCode.OK, ownPoll.StatusCode);
        await AssertRefusedAsync(foreignSend);
        await AssertRefusedAsync(foreignClose);
        Assert.Equal(HttpStatusCode.OK, configuredSend.StatusCode);
    }

    [Fact]
    public async Task A_configured_origin_gets_cors_answers_and_a_foreign_one_none()
    {
        void Preflight(HttpRequestMessage request)
        {
            request.Headers.Add("Access-Control-Request-Method", "POST");
            request.Headers.Add("Access-Control-Request-Headers", "authorization,x-requested-with,x-signalr-user-agent");
        }

        using var allowedPreflight = await SendAsync(HttpMethod.Options, $"{GatewayRoutes.Hub}/negotiate?negotiateVersion=1", Configured, Preflight);
        using var foreignPreflight = await SendAsync(HttpMethod.Options, $"{GatewayRoutes.Hub}/negotiate?negotiateVersion=1", Foreign, Preflight);
        using var allowedNegotiate = await SendAsync(HttpMethod.Post, $"{GatewayRoutes.Hub}/negotiate?negotiateVersion=1", Configured);
        using var foreignRead = await SendAsync(HttpMethod.Get, "/api/me", Foreign);

        Assert.Equal(HttpStatusCode.NoContent, allowedPreflight.StatusCode);
        Assert.Equal(Configured, allowedPreflight.Headers.GetValues("Access-Control-Allow-Origin").Single());
        Assert.Equal("true", allowedPreflight.Headers.GetValues("Access-Control-Allow-Credentials").Single());
        await AssertRefusedAsync(foreignPreflight);
        Assert.Equal(Configured, allowedNegotiate.Headers.GetValues("Access-Control-Allow-Origin").Single());
        // A read is answered (browsers send Origin on same-origin module scripts too) but without CORS headers: a
        // foreign page cannot read it.
        Assert.Equal(HttpStatusCode.OK, foreignRead.StatusCode);
        Assert.False(foreignRead.Headers.Contains("Access-Control-Allow-Origin"));
    }
}
