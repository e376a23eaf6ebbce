using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Gateway.Contracts;
using Gateway.Testing;
using Microsoft.AspNetCore.Http.Connections;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;

namespace Gateway.Server.Tests.Sessions;

/// <summary>The admin REST routes and admin hub methods, with their filters, paging, errors and roles.</summary>
public sealed class AdminSessionsApiTests : IAsyncLifetime, IDisposable
{
    private readonly GatewayTestServer _server = new();
    private readonly List<TestHubClient> _clients = [];
    private HttpClient _admin = null!;

    public async Task InitializeAsync()
    {
        _admin = _server.CreateHttpClient(GatewayTestServer.Token("root", GatewayRoles.Admin));
        // Five sessions: alice x2 (websocket json, long polling), bob (sse), carol (websocket msgpack, closed), dave (websocket).
        await ConnectAsync("alice", "alice-laptop", HttpTransportType.WebSockets, false);
        await ConnectAsync("alice", "alice-phone", HttpTransportType.LongPolling, false);
        await ConnectAsync("bob", "bob-1", HttpTransportType.ServerSentEvents, false);
        var carol = await ConnectAsync("carol", "carol-1", HttpTransportType.WebSockets, true);
        await carol.Connection.StopAsync();
        await ConnectAsync("dave", "dave-1", HttpTransportType.WebSockets, false);
        await SessionRowTests.Eventually(() => _server.Store.QueryLong("SELECT COUNT(*) FROM sessions WHERE NOT is_active") == 1);
    }

    public async Task DisposeAsync()
    {
        foreach (var client in _clients)
        {
            await client.DisposeAsync();
        }

    }

    // xunit calls DisposeAsync, then Dispose.
    public void Dispose()
    {
        _admin?.Dispose();
        _server.Dispose();
    }

    private async Task<TestHubClient> ConnectAsync(string user, string clientId, HttpTransportType transport, bool messagePack)
    {
        var client = _server.CreateClient(GatewayTestServer.Token(user, GatewayRoles.Agent), transport, messagePack, clientId);
        await client.StartAsync();
        _clients.Add(client);
        return client;
    }

    private async Task<JsonElement> ListAsync(string query)
    {
        using var response = await _admin.GetAsync(new Uri("/api/sessions" + query, UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return document.RootElement.Clone();
    }

    private static string[] ClientIds(JsonElement page) =>
        page.GetProperty("items").EnumerateArray().Select(s => s.GetProperty("clientId").GetString()!).ToArray();

    [Trait(TestProviders.Trait, TestProviders.Both)]
    [Theory]
    [InlineData("", new[] { "dave-1", "carol-1", "bob-1", "alice-phone", "alice-laptop" })]
    [InlineData("?active=true", new[] { "dave-1", "bob-1", "alice-phone", "alice-laptop" })]
    [InlineData("?active=false", new[] { "carol-1" })]
    [InlineData("?user=alice", new[] { "alice-phone", "alice-laptop" })]
    [InlineData("?client=bob-1", new[] { "bob-1" })]
    [InlineData("?connectionType=long_polling", new[] { "alice-phone" })]
    [InlineData("?connectionType=server_sent_events", new[] { "bob-1" })]
    [InlineData("?user=alice&order=asc", new[] { "alice-laptop", "alice-phone" })]
    [InlineData("?sort=lastHeartbeat&order=asc&active=true&user=alice", new[] { "alice-laptop", "alice-phone" })]
    [InlineData("?staleSeconds=3600", new string[0])]
    public async Task Lists_with_each_filter_newest_first_by_default(string query, string[] expected)
    {
        var page = await ListAsync(query);

        Assert.Equal(expected, ClientIds(page));
        Assert.Equal(expected.Length, page.GetProperty("total").GetInt32());
    }

    [Trait(TestProviders.Trait, TestProviders.Both)]
    [Fact]
    public async Task Stale_filter_finds_sessions_silent_for_longer_than_n_seconds()
    {
        // A heartbeat's time is when it arrived; its row is written at the next flush, up to FlushIntervalSeconds (2 s)
        // later. Silent for more than 4 s: bob (connected before the 4.1 s wait); alice's heartbeat is at most the
        // flush interval old when the list is made, so the margin holds on a loaded machine.
        await Task.Delay(4100);
        await _clients[0].Connection.InvokeAsync<HeartbeatReply>(nameof(IGatewayHub.Heartbeat));
        await SessionRowTests.Eventually(() =>
            _server.Store.QueryLong("SELECT COUNT(*) FROM sessions WHERE client_id = 'alice-laptop' AND last_heartbeat > created_at") == 1);

        var page = await ListAsync("?staleSeconds=4&active=true");

        Assert.DoesNotContain("alice-laptop", ClientIds(page));
        Assert.Contains("bob-1", ClientIds(page));
    }

    [Trait(TestProviders.Trait, TestProviders.Both)]
    [Fact]
    public async Task Pages_through_all_sessions_without_overlap()
    {
        var first = await ListAsync("?pageSize=2&page=1");
        var second = await ListAsync("?pageSize=2&page=2");
        var third = await ListAsync("?pageSize=2&page=3");

        Assert.Equal(5, first.GetProperty("total").GetInt32());
        Assert.Equal(2, first.GetProperty("pageSize").GetInt32());
        Assert.Equal(
            ["dave-1", "carol-1", "bob-1", "alice-phone", "alice-laptop"],
            ClientIds(first).Concat(ClientIds(second)).Concat(ClientIds(third)).ToArray());
    }

    [Theory]
    [InlineData("?active=maybe", "active")]
    [InlineData("?connectionType=carrier_pigeon", "connectionType")]
    [InlineData("?page=0", "page")]
    [InlineData("?pageSize=501", "pageSize")]
    [InlineData("?staleSeconds=-1", "staleSeconds")]
    [InlineData("?sort=name", "sort")]
    [InlineData("?order=sideways", "order")]
    [InlineData("?colour=blue", "colour")]
    public async Task A_bad_filter_is_a_400_problem_naming_it(string query, string field)
    {
        using var response = await _admin.GetAsync(new Uri("/api/sessions" + query, UriKind.Relative));
        using var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync());

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.True(problem.RootElement.GetProperty("errors").TryGetProperty(field, out _), problem.RootElement.ToString());
    }

    [Trait(TestProviders.Trait, TestProviders.Both)]
    [Fact]
    public async Task Gets_one_session_and_404s_an_unknown_id()
    {
        var sessionId = (await _clients[2].Established).SessionId;

        var session = await _admin.GetFromJsonAsync<SessionInfo>(new Uri($"/api/sessions/{sessionId}", UriKind.Relative));
        using var missing = await _admin.GetAsync(new Uri("/api/sessions/no-such-session", UriKind.Relative));

        Assert.Equal(("bob-1", "bob", "server_sent_events", true), (session!.ClientId, session.UserId, session.ConnectionType, session.IsActive));
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.Equal("application/problem+json", missing.Content.Headers.ContentType?.MediaType);
    }

    [Trait(TestProviders.Trait, TestProviders.Both)]
    [Fact]
    public async Task Delete_disconnects_the_live_client_with_the_reason_and_marks_the_row()
    {
        var target = _clients[0];
        var sessionId = (await target.Established).SessionId;

        using var response = await _admin.DeleteAsync(new Uri($"/api/sessions/{sessionId}?reason=maintenance%20window", UriKind.Relative));
        var notice = await target.Closing;
        await target.Closed;
        using var again = await _admin.DeleteAsync(new Uri($"/api/sessions/{sessionId}", UriKind.Relative));
        using var unknown = await _admin.DeleteAsync(new Uri("/api/sessions/nope", UriKind.Relative));

        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        Assert.Equal((HubErrorCodes.DisconnectedByAdmin, "maintenance window", false), (notice.Code, notice.Reason, notice.Reconnect));
        Assert.Equal(HubConnectionState.Disconnected, target.Connection.State);
        Assert.Equal((0L, "disconnected_by_admin"), SessionLifecycleTests.SessionState(_server.Store, sessionId));
        Assert.Equal(HttpStatusCode.Conflict, again.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
    }

    [Trait(TestProviders.Trait, TestProviders.Both)]
    [Fact]
    public async Task Realtime_stats_count_connections_by_transport_and_protocol()
    {
        using var stats = await _admin.GetFromJsonAsync<JsonDocument>(new Uri("/api/realtime/stats", UriKind.Relative));
        var connections = stats!.RootElement.GetProperty("connections");

        Assert.Equal(4, connections.GetProperty("total").GetInt32());
        Assert.Equal(2, connections.GetProperty("byTransport").GetProperty("websocket").GetInt32());
        Assert.Equal(1, connections.GetProperty("byTransport").GetProperty("long_polling").GetInt32());
        Assert.Equal(4, connections.GetProperty("byProtocol").GetProperty("json").GetInt32());
        Assert.Equal(4, stats.RootElement.GetProperty("sessionsActive").GetInt32());
        Assert.True(stats.RootElement.GetProperty("messages").GetProperty("out").GetInt64() >= 5);
    }

    [Theory]
    [InlineData("GET", "/api/sessions")]
    [InlineData("GET", "/api/sessions/x")]
    [InlineData("DELETE", "/api/sessions/x")]
    [InlineData("GET", "/api/realtime/stats")]
    public async Task Non_admins_get_403_and_no_token_gets_401_on_every_admin_route(string method, string path)
    {
        foreach (var role in new[] { GatewayRoles.Dashboard, GatewayRoles.Agent })
        {
            using var client = _server.CreateHttpClient(GatewayTestServer.Token("someone", role));
            using var forbidden = await client.SendAsync(new HttpRequestMessage(new HttpMethod(method), new Uri(path, UriKind.Relative)));
            Assert.Equal(HttpStatusCode.Forbidden, forbidden.StatusCode);
        }

        using var anonymous = _server.CreateHttpClient();
        using var unauthorized = await anonymous.SendAsync(new HttpRequestMessage(new HttpMethod(method), new Uri(path, UriKind.Relative)));
        Assert.Equal(HttpStatusCode.Unauthorized, unauthorized.StatusCode);
    }

    [Theory]
    [InlineData(nameof(IGatewayHub.SubscribeSessions))]
    [InlineData(nameof(IGatewayHub.UnsubscribeSessions))]
    [InlineData(nameof(IGatewayHub.DisconnectSession), "some-session", "reason")]
    public async Task Non_admins_get_a_forbidden_hub_error_and_stay_connected(string method, params string[] args)
    {
        var dashboard = _clients[2];

        var error = await Assert.ThrowsAsync<HubException>(() => dashboard.Connection.InvokeCoreAsync(method, typeof(object), args));
        var reply = await dashboard.Connection.InvokeAsync<HeartbeatReply>(nameof(IGatewayHub.Heartbeat));

        Assert.Equal(HubErrorCodes.Forbidden, HubErrorCodes.CodeOf(error.Message));
        Assert.NotEqual(default, reply.ServerTime);
    }

    [Trait(TestProviders.Trait, TestProviders.Both)]
    [Fact]
    public async Task Admins_subscribe_to_session_events_and_disconnect_over_the_hub()
    {
        await using var admin = _server.CreateClient(GatewayTestServer.Token("root", GatewayRoles.Admin), messagePack: true);
        await admin.StartAsync();
        var opened = new TaskCompletionSource<SessionInfo>();
        var closed = new TaskCompletionSource<SessionInfo>();
        admin.Connection.On<SessionInfo>(nameof(IGatewayClient.SessionOpened), s => opened.TrySetResult(s));
        admin.Connection.On<SessionInfo>(nameof(IGatewayClient.SessionClosed), s => closed.TrySetResult(s));
        await admin.Connection.InvokeAsync(nameof(IGatewayHub.SubscribeSessions));

        var newcomer = await ConnectAsync("erin", "erin-1", HttpTransportType.WebSockets, false);
        var sessionId = (await newcomer.Established).SessionId;
        var openedEvent = await opened.Task.WaitAsync(TestHubConnections.Timeout);
        var disconnected = await admin.Connection.InvokeAsync<bool>(nameof(IGatewayHub.DisconnectSession), sessionId, "over the hub");
        var closedEvent = await closed.Task.WaitAsync(TestHubConnections.Timeout);
        var unknown = await Assert.ThrowsAsync<HubException>(() => admin.Connection.InvokeAsync<bool>(nameof(IGatewayHub.DisconnectSession), "nope", "x"));
        var badReason = await Assert.ThrowsAsync<HubException>(() => admin.Connection.InvokeAsync<bool>(nameof(IGatewayHub.DisconnectSession), sessionId, ""));
        var noSession = await Assert.ThrowsAsync<HubException>(() => admin.Connection.InvokeAsync<bool>(nameof(IGatewayHub.DisconnectSession), null, "x"));

        Assert.Equal((sessionId, "erin-1", true), (openedEvent.Id, openedEvent.ClientId, openedEvent.IsActive));
        Assert.True(disconnected);
        Assert.Equal((sessionId, false), (closedEvent.Id, closedEvent.IsActive));
        Assert.Equal(HubErrorCodes.NotFound, HubErrorCodes.CodeOf(unknown.Message));
        Assert.Equal(HubErrorCodes.InvalidArgument, HubErrorCodes.CodeOf(badReason.Message));
        Assert.Equal(HubErrorCodes.NotFound, HubErrorCodes.CodeOf(noSession.Message));
        await newcomer.Closed;
    }
}
