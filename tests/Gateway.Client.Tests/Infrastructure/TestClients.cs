using Gateway.Data.Conversion;
using Gateway.Testing;
using Microsoft.AspNetCore.Http.Connections;

namespace Gateway.Client.Tests.Infrastructure;

/// <summary>Gateway clients on a test server, and what the server's database says about their sessions.</summary>
internal static class TestClients
{
    /// <summary>The longest any await in these tests may take.</summary>
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(15);

    /// <summary>A client of <paramref name="server"/> over WebSockets and JSON unless told otherwise; not started.</summary>
    public static GatewayClient CreateGatewayClient(
        this GatewayTestServer server,
        string? token,
        string? clientId = null,
        GatewayProtocol protocol = GatewayProtocol.Json,
        HttpTransportType transports = HttpTransportType.WebSockets,
        TimeSpan? heartbeatInterval = null) =>
        new(new GatewayClientOptions
        {
            Url = server.BaseAddress,
            AccessToken = token,
            ClientId = clientId,
            Protocol = protocol,
            Transports = transports,
            HeartbeatInterval = heartbeatInterval,
            ConnectTimeout = Timeout,
        });

    public static Task StartWithTimeoutAsync(this GatewayClient client) => client.StartAsync().WaitAsync(Timeout);

    public static SessionRow Row(this GatewayTestServer server, string sessionId)
    {
        using var connection = server.Database.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT client_id, user_id, connection_type, is_active, metadata, last_heartbeat FROM sessions WHERE id = $id";
        command.Parameters.AddWithValue("$id", sessionId);
        using var reader = command.ExecuteReader();
        Assert.True(reader.Read(), $"no row for session {sessionId}");
        return new SessionRow(
            sessionId,
            reader.GetString(0),
            reader.IsDBNull(1) ? null : reader.GetString(1),
            reader.GetString(2),
            reader.GetInt64(3) == 1,
            reader.IsDBNull(4) ? null : reader.GetString(4),
            UtcDateTimeConverter.Parse(reader.GetString(5)));
    }

    public static long SessionCount(this GatewayTestServer server, string clientId)
    {
        using var connection = server.Database.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT COUNT(*) FROM sessions WHERE client_id = $client";
        command.Parameters.AddWithValue("$client", clientId);
        return (long)command.ExecuteScalar()!;
    }

    /// <summary>Polls until <paramref name="condition"/> holds; fails the test after the timeout.</summary>
    public static async Task Eventually(Func<bool> condition, string what, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? Timeout);
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                Assert.Fail($"not in time: {what}");
            }

            await Task.Delay(50);
        }
    }
}

internal sealed record SessionRow(
    string Id, string ClientId, string? UserId, string ConnectionType, bool IsActive, string? Metadata, DateTime LastHeartbeat)
{
    /// <summary>The <c>closeReason</c> the gateway wrote into the metadata of a closed session.</summary>
    public string? CloseReason
    {
        get
        {
            if (Metadata is null)
            {
                return null;
            }

            using var document = System.Text.Json.JsonDocument.Parse(Metadata);
            return document.RootElement.TryGetProperty("closeReason", out var reason) ? reason.GetString() : null;
        }
    }
}
