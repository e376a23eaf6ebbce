using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using Gateway.Contracts;
using Gateway.Testing;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Xunit.Abstractions;

namespace Gateway.Server.Tests.Cluster;

/// <summary>
/// A node that stalls (paused, swapped out, its network silent) in the middle of an append holds the event log's lock,
/// which every node's appends wait for. PostgreSQL ends such a transaction once it has idled for
/// Database:IdleTransactionTimeoutSeconds: the others' appends go on, the stalled one is rolled back.
/// </summary>
public sealed class PostgresStalledNodeTests(ITestOutputHelper output)
{
    private static readonly Dictionary<string, string?> Settings = new()
    {
        ["Database:IdleTransactionTimeoutSeconds"] = "2",
    };

    [Fact]
    public async Task A_transaction_that_stalls_holding_the_logs_lock_is_ended_and_the_other_appends_go_on()
    {
        await using var database = await TestPostgres.CreateMigratedDatabaseAsync("stalled");
        using var stalled = new GatewayTestServer(Settings, database, nodeId: "stalled-node");
        using var writer = new GatewayTestServer(Settings, database, nodeId: "writing-node");

        // The stalled node's connection, from its own pool, inside an append that took the log's lock and then went quiet.
        await using var held = await stalled.Services.GetRequiredService<NpgsqlDataSource>().OpenConnectionAsync();
        await using (var timeout = new NpgsqlCommand("SHOW idle_in_transaction_session_timeout", held))
        {
            Assert.Equal("2s", await timeout.ExecuteScalarAsync());
        }

        await using var transaction = await held.BeginTransactionAsync();
        await using (var take = new NpgsqlCommand("SELECT pg_advisory_xact_lock(hashtextextended('gateway.events', 0))", held, transaction))
        {
            await take.ExecuteNonQueryAsync();
        }

        var stalledFor = Stopwatch.StartNew();

        using var http = writer.CreateHttpClient(GatewayTestServer.Token("agent-1", GatewayRoles.Agent));
        http.Timeout = TimeSpan.FromSeconds(30);
        var waited = Stopwatch.StartNew();
        using var created = await http.PostAsJsonAsync(new Uri("/api/tasks", UriKind.Relative), new { title = "after the stall", taskType = "indexing" });
        waited.Stop();
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        // It waited for the lock until the server ended the stalled transaction, 2 s after its last statement.
        Assert.InRange(stalledFor.Elapsed, TimeSpan.FromSeconds(1.9), TimeSpan.FromSeconds(15));
        output.WriteLine($"an append behind a stalled holder of the log's lock waited {waited.Elapsed.TotalSeconds:F1} s (idle-in-transaction timeout 2 s)");

        // The stalled transaction was ended by the server, not committed later.
        await Assert.ThrowsAnyAsync<Exception>(async () =>
        {
            await using var next = new NpgsqlCommand("SELECT 1", held, transaction);
            await next.ExecuteScalarAsync();
        });
        Assert.Equal(1, database.QueryLong("SELECT count(*) FROM tasks WHERE title = 'after the stall'"));
    }
}
