using System.Text.Json;
using Gateway.Contracts;
using Gateway.Testing;
using Microsoft.AspNetCore.Http.Connections;

namespace Gateway.Server.Tests.Sessions;

/// <summary>Every connection is a row in sessions, over every transport and protocol SignalR supports.</summary>
public sealed class SessionRowTests : IDisposable
{
    private readonly GatewayTestServer _server = new();

    public void Dispose() => _server.Dispose();

    public static TheoryData<HttpTransportType, bool, string> TransportsAndProtocols => new()
    {
        { HttpTransportType.WebSockets, false, "websocket" },
        { HttpTransportType.WebSockets, true, "websocket" },
        { HttpTransportType.ServerSentEvents, false, "server_sent_events" },
        { HttpTransportType.LongPolling, false, "long_polling" },
        { HttpTransportType.LongPolling, true, "long_polling" },
    };

    [Theory]
    [MemberData(nameof(TransportsAndProtocols))]
    public async Task A_connection_is_a_session_row_closed_when_it_leaves(HttpTransportType transport, bool messagePack, string connectionType)
    {
        await using var client = _server.CreateClient(GatewayTestServer.Token("alice", GatewayRoles.Dashboard), transport, messagePack, clientId: "dash-1");

        var established = await client.StartAsync();

        Assert.Equal("dash-1", established.ClientId);
        Assert.Equal(_server.NodeId, established.NodeId);
        var row = Row(established.SessionId);
        Assert.Equal(("dash-1", "alice", connectionType, 1L), (row.ClientId, row.UserId, row.ConnectionType, row.IsActive));
        using var metadata = JsonDocument.Parse(row.Metadata);
        Assert.Equal(messagePack ? "messagepack" : "json", metadata.RootElement.GetProperty("protocol").GetString());
        Assert.Equal(_server.NodeId, metadata.RootElement.GetProperty("nodeId").GetString());
        Assert.Equal("127.0.0.1", metadata.RootElement.GetProperty("remoteAddress").GetString());

        await client.Connection.StopAsync();

        await Eventually(() => Row(established.SessionId).IsActive == 0);
        using var closed = JsonDocument.Parse(Row(established.SessionId).Metadata);
        Assert.Equal("client_closed", closed.RootElement.GetProperty("closeReason").GetString());
    }

    [Fact]
    public async Task A_client_without_a_client_id_gets_one_and_the_header_form_is_understood()
    {
        await using var anonymous = _server.CreateClient(GatewayTestServer.Token("bob", GatewayRoles.Agent));
        var generated = await anonymous.StartAsync();

        Assert.True(Guid.TryParse(generated.ClientId, out _));
        Assert.Equal(generated.ClientId, Row(generated.SessionId).ClientId);
    }

    [Fact]
    public async Task Reconnecting_with_the_same_client_id_is_a_new_session_of_the_same_client()
    {
        var token = GatewayTestServer.Token("carol", GatewayRoles.Agent);
        await using var first = _server.CreateClient(token, clientId: "agent-7");
        var one = await first.StartAsync();
        await first.Connection.StopAsync();
        await using var second = _server.CreateClient(token, clientId: "agent-7");
        var two = await second.StartAsync();

        Assert.NotEqual(one.SessionId, two.SessionId);
        Assert.Equal(2, _server.Store.QueryLong("SELECT COUNT(*) FROM sessions WHERE client_id = 'agent-7'"));
    }

    private (string ClientId, string? UserId, string ConnectionType, long IsActive, string Metadata) Row(string sessionId)
    {
        using var connection = _server.Database.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT client_id, user_id, connection_type, is_active, metadata FROM sessions WHERE id = $id";
        command.Parameters.AddWithValue("$id", sessionId);
        using var reader = command.ExecuteReader();
        Assert.True(reader.Read(), $"no row for session {sessionId}");
        return (reader.GetString(0), reader.IsDBNull(1) ? null : reader.GetString(1), reader.GetString(2), reader.GetInt64(3), reader.GetString(4));
    }

    internal static async Task Eventually(Func<bool> condition, TimeSpan? timeout = null, string what = "condition")
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(10));
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                Assert.Fail($"{what} not met in time");
            }

            await Task.Delay(5);
        }
    }
}
