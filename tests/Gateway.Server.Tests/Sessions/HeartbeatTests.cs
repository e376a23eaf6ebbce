using System.Net.Http.Json;
using System.Text.Json;
using Gateway.Contracts;
using Gateway.Testing;
using Microsoft.AspNetCore.SignalR.Client;

namespace Gateway.Server.Tests.Sessions;

/// <summary>Heartbeats are coalesced in memory and written once per flush interval, never a transaction each.</summary>
public sealed class HeartbeatTests : IDisposable
{
    private readonly GatewayTestServer _server = new(new Dictionary<string, string?>
    {
        ["Sessions:FlushIntervalSeconds"] = "1",
        ["Sessions:HeartbeatIntervalSeconds"] = "1",
        ["Sessions:StaleTimeoutSeconds"] = "30",
    });

    public void Dispose() => _server.Dispose();

    [Fact]
    public async Task Heartbeat_answers_the_server_time_and_moves_last_heartbeat_after_a_flush_and_not_before()
    {
        await using var client = _server.CreateClient(GatewayTestServer.Token("alice", GatewayRoles.Dashboard));
        var established = await client.StartAsync();
        var initial = LastHeartbeat(established.SessionId);
        await Task.Delay(1100); // past the second of the row's own timestamp, so a new one differs

        var batchesBefore = await HeartbeatBatchesAsync();
        var before = DateTime.UtcNow;
        var reply = await client.Connection.InvokeAsync<HeartbeatReply>(nameof(IGatewayHub.Heartbeat)).WaitAsync(TestHubConnections.Timeout);
        var stored = LastHeartbeat(established.SessionId);
        await Task.Delay(50);
        var batchesAfter = await HeartbeatBatchesAsync();

        Assert.InRange(reply.ServerTime, before.AddSeconds(-1), DateTime.UtcNow.AddSeconds(1));
        Assert.Equal(DateTimeKind.Utc, reply.ServerTime.Kind);
        if (batchesAfter == batchesBefore)
        {
            Assert.Equal(initial, stored);
        }

        await SessionRowTests.Eventually(() => string.CompareOrdinal(LastHeartbeat(established.SessionId), initial) > 0, TimeSpan.FromSeconds(5));
        Assert.True(await HeartbeatBatchesAsync() > batchesBefore);
    }

    [Fact]
    public async Task Many_heartbeats_from_many_clients_cost_about_one_write_per_flush_interval()
    {
        const int clients = 20;
        const int beatsEach = 15;
        var connections = new List<TestHubClient>();
        for (var i = 0; i < clients; i++)
        {
            var client = _server.CreateClient(GatewayTestServer.Token($"user-{i}", GatewayRoles.Agent), messagePack: i % 2 == 0);
            await client.StartAsync();
            connections.Add(client);
        }

        var before = await StatsAsync();
        var started = DateTime.UtcNow;
        for (var beat = 0; beat < beatsEach; beat++)
        {
            await Task.WhenAll(connections.Select(c => c.Connection.InvokeAsync<HeartbeatReply>(nameof(IGatewayHub.Heartbeat))));
            await Task.Delay(100);
        }

        await Task.Delay(1500); // one more flush
        var elapsed = DateTime.UtcNow - started;
        var after = await StatsAsync();

        var received = after.Received - before.Received;
        var batches = after.Batches - before.Batches;
        var transactions = after.Transactions - before.Transactions;
        Assert.Equal(clients * beatsEach, received);
        // One flush per interval (1 s), plus one for a partial interval at each end.
        Assert.InRange(batches, 1, (long)Math.Ceiling(elapsed.TotalSeconds) + 2);
        Assert.InRange(transactions, batches, (long)Math.Ceiling(elapsed.TotalSeconds) + 2);
        Assert.True(after.RowsWritten - before.RowsWritten <= clients * batches);
        foreach (var client in connections)
        {
            await client.DisposeAsync();
        }
    }

    private string LastHeartbeat(string sessionId)
    {
        using var connection = _server.Database.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT last_heartbeat FROM sessions WHERE id = $id";
        command.Parameters.AddWithValue("$id", sessionId);
        return (string)command.ExecuteScalar()!;
    }

    private async Task<long> HeartbeatBatchesAsync() => (await StatsAsync()).Batches;

    private async Task<(long Received, long Batches, long RowsWritten, long Transactions)> StatsAsync()
    {
        using var http = _server.CreateHttpClient(GatewayTestServer.Token("admin", GatewayRoles.Admin));
        using var stats = await http.GetFromJsonAsync<JsonDocument>(new Uri("/api/realtime/stats", UriKind.Relative));
        var heartbeats = stats!.RootElement.GetProperty("heartbeats");
        return (
            heartbeats.GetProperty("received").GetInt64(),
            heartbeats.GetProperty("batches").GetInt64(),
            heartbeats.GetProperty("rowsWritten").GetInt64(),
            stats.RootElement.GetProperty("sessionWriteTransactions").GetInt64());
    }
}
