using System.Net;
using Gateway.Client.Tests.Infrastructure;
using Gateway.Contracts;
using Gateway.Testing;
using Microsoft.AspNetCore.Http.Connections;

namespace Gateway.Client.Tests;

/// <summary>Starting and stopping: every transport and protocol, the session it opens, and the ways a start fails.</summary>
public sealed class ConnectTests : IDisposable
{
    private readonly GatewayTestServer _server = new();

    public void Dispose() => _server.Dispose();

    public static TheoryData<HttpTransportType, GatewayProtocol, string> TransportsAndProtocols => new()
    {
        { HttpTransportType.WebSockets, GatewayProtocol.Json, ConnectionTypes.WebSocket },
        { HttpTransportType.WebSockets, GatewayProtocol.MessagePack, ConnectionTypes.WebSocket },
        { HttpTransportType.ServerSentEvents, GatewayProtocol.Json, ConnectionTypes.ServerSentEvents },
        { HttpTransportType.LongPolling, GatewayProtocol.Json, ConnectionTypes.LongPolling },
        { HttpTransportType.LongPolling, GatewayProtocol.MessagePack, ConnectionTypes.LongPolling },
    };

    [Theory]
    [MemberData(nameof(TransportsAndProtocols))]
    public async Task Start_returns_once_the_session_is_established_and_exposes_its_row(
        HttpTransportType transport, GatewayProtocol protocol, string connectionType)
    {
        await using var client = _server.CreateGatewayClient(GatewayTestServer.Token("alice", GatewayRoles.Dashboard), "dash-1", protocol, transport);
        var events = new ClientEvents(client);

        await client.StartWithTimeoutAsync();

        Assert.Equal(GatewayConnectionState.Connected, client.State);
        Assert.NotNull(client.SessionId);
        Assert.Equal(_server.NodeId, client.NodeId);
        var row = _server.Row(client.SessionId);
        Assert.Equal(("dash-1", "alice", connectionType, true), (row.ClientId, row.UserId, row.ConnectionType, row.IsActive));
        var established = await events.Established.NextAsync();
        Assert.Equal((client.SessionId, "dash-1"), (established.SessionId, established.ClientId));

        var reply = await client.Heartbeat().WaitAsync(TestClients.Timeout);
        Assert.InRange(reply.ServerTime, DateTime.UtcNow.AddSeconds(-10), DateTime.UtcNow.AddSeconds(10));
    }

    [Fact]
    public async Task Stop_closes_the_session_with_client_closed()
    {
        await using var client = _server.CreateGatewayClient(GatewayTestServer.Token("alice", GatewayRoles.Agent));
        var events = new ClientEvents(client);
        await client.StartWithTimeoutAsync();
        var sessionId = client.SessionId!;

        await client.StopAsync().WaitAsync(TestClients.Timeout);

        Assert.Equal(GatewayConnectionState.Disconnected, client.State);
        var closed = await events.Closed.NextAsync();
        Assert.Equal((GatewayCloseCodes.ClientClosed, false, sessionId), (closed.Code, closed.ReconnectAdvised, closed.SessionId));
        await TestClients.Eventually(() => !_server.Row(sessionId).IsActive, "the row is closed");
        Assert.Equal("client_closed", _server.Row(sessionId).CloseReason);
        Assert.Equal(0, events.Reconnecting.Count);
    }

    [Fact]
    public async Task Disposing_raises_closed_before_it_returns_and_closes_the_session()
    {
        var client = _server.CreateGatewayClient(GatewayTestServer.Token("alice", GatewayRoles.Agent));
        var events = new ClientEvents(client);
        await client.StartWithTimeoutAsync();
        var sessionId = client.SessionId!;

        await client.DisposeAsync().AsTask().WaitAsync(TestClients.Timeout);

        Assert.Equal(GatewayCloseCodes.ClientClosed, Assert.Single(events.Closed.All).Code);
        await TestClients.Eventually(() => !_server.Row(sessionId).IsActive, "the row is closed");
        await Assert.ThrowsAsync<ObjectDisposedException>(() => client.StartAsync());
    }

    [Fact]
    public async Task A_generated_client_id_is_kept_across_restarts_of_the_same_instance()
    {
        await using var client = _server.CreateGatewayClient(GatewayTestServer.Token("bob", GatewayRoles.Agent));
        Assert.True(Guid.TryParse(client.ClientId, out _));

        await client.StartWithTimeoutAsync();
        var first = client.SessionId!;
        await client.StopAsync().WaitAsync(TestClients.Timeout);
        await client.StartWithTimeoutAsync();

        Assert.NotEqual(first, client.SessionId);
        Assert.Equal(client.ClientId, _server.Row(first).ClientId);
        Assert.Equal(client.ClientId, _server.Row(client.SessionId!).ClientId);
        Assert.Equal(2, _server.SessionCount(client.ClientId));
    }

    [Fact]
    public async Task The_client_version_is_recorded_in_the_session_metadata()
    {
        await using var client = new GatewayClient(new GatewayClientOptions
        {
            Url = _server.BaseAddress,
            AccessToken = GatewayTestServer.Token("bob", GatewayRoles.Agent),
            ClientVersion = "9.8.7",
            Transports = HttpTransportType.WebSockets,
        });

        await client.StartWithTimeoutAsync();

        Assert.Contains("\"9.8.7\"", _server.Row(client.SessionId!).Metadata, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_bad_token_fails_the_start_with_401()
    {
        await using var client = _server.CreateGatewayClient("not-a-token");
        var events = new ClientEvents(client);

        var failure = await Assert.ThrowsAsync<GatewayConnectException>(client.StartWithTimeoutAsync);

        Assert.Equal((GatewayCloseCodes.Unauthorized, HttpStatusCode.Unauthorized), (failure.Code, failure.StatusCode));
        Assert.Contains("401", failure.Message, StringComparison.Ordinal);
        Assert.Contains("access token", failure.Message, StringComparison.Ordinal);
        Assert.Equal(GatewayConnectionState.Disconnected, client.State);
        Assert.Null(client.SessionId);
        Assert.Equal(0, events.Closed.Count);
    }

    [Fact]
    public async Task Hub_methods_before_start_say_to_start_first()
    {
        await using var client = _server.CreateGatewayClient(GatewayTestServer.Token("bob", GatewayRoles.Agent));

        var failure = await Assert.ThrowsAsync<InvalidOperationException>(() => client.Heartbeat().WaitAsync(TestClients.Timeout));

        Assert.Contains("StartAsync", failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Starting_twice_is_refused_while_connected()
    {
        await using var client = _server.CreateGatewayClient(GatewayTestServer.Token("bob", GatewayRoles.Agent));
        await client.StartWithTimeoutAsync();

        await Assert.ThrowsAsync<InvalidOperationException>(client.StartWithTimeoutAsync);

        Assert.Equal(GatewayConnectionState.Connected, client.State);
    }
}
