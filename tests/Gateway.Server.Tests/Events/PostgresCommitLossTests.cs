using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Gateway.Contracts;
using Gateway.Server.Tests.Orchestration;
using Gateway.Server.Tests.Sessions;
using Gateway.Testing;
using Microsoft.AspNetCore.Http.Connections;

namespace Gateway.Server.Tests.Events;

/// <summary>
/// A connection to PostgreSQL lost during the event log's COMMIT, cut by a proxy at that moment: the caller is
/// acknowledged only if it committed, told <c>storage_unavailable</c> only if it did not, and
/// <c>commit_outcome_unknown</c> when the database cannot be asked; a retry never makes a silent duplicate.
/// </summary>
public sealed class PostgresCommitLossTests
{
    private static async Task<(TemporaryPostgresDatabase Database, CommitCuttingProxy Proxy, GatewayTestServer Server)> StartAsync(string waitSeconds = "15")
    {
        var database = await TestPostgres.CreateMigratedDatabaseAsync("commitloss");
        var direct = new Uri(database.Url);
        var proxy = new CommitCuttingProxy(direct.Host, direct.Port);
        var server = new GatewayTestServer(
            new Dictionary<string, string?>
            {
                ["DATABASE_URL"] = proxy.Through(database.Url),
                ["RateLimits:WritesPerSecond"] = "0",
                ["Events:CommitOutcomeWaitSeconds"] = waitSeconds,
            },
            database);
        _ = server.BaseAddress;
        return (database, proxy, server);
    }

    private static Task<HttpResponseMessage> CreateAsync(GatewayTestServer server, string title, string? id = null) =>
        server.As("agent-1", GatewayRoles.Agent).PostAsJsonAsync(new Uri("/api/tasks", UriKind.Relative), new { id, title, taskType = "indexing" });

    private static long Rows(TemporaryPostgresDatabase database, string title) =>
        database.QueryLong($"SELECT count(*) FROM tasks WHERE title = '{title}'");

    [Fact]
    public async Task A_commit_whose_answer_is_lost_is_acknowledged_once_and_its_events_are_delivered()
    {
        var (database, proxy, server) = await StartAsync();
        await using var _database = database;
        await using var _proxy = proxy;
        using var _server = server;
        var (client, received) = await MultiNodeDeliveryTests.SubscribeAsync(server, HttpTransportType.WebSockets, messagePack: false);
        await using var _client = client;

        proxy.Arm(CommitCut.LoseAnswer, mark: "answer lost");
        using var response = await CreateAsync(server, "answer lost");

        Assert.Equal(1, proxy.Cuts);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var id = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString();
        Assert.Equal(1, Rows(database, "answer lost"));
        var logged = database.QueryLongs($"SELECT id FROM gateway_events WHERE task_id = '{id}'");
        Assert.NotEmpty(logged);
        await SessionRowTests.Eventually(() => logged.All(received.Contains), TimeSpan.FromSeconds(10), "the acknowledged change's events delivered");
    }

    [Fact]
    public async Task A_commit_that_never_arrived_is_refused_as_not_written_and_its_stranded_backend_does_not_block_the_retry()
    {
        var (database, proxy, server) = await StartAsync();
        await using var _database = database;
        await using var _proxy = proxy;
        using var _server = server;

        proxy.Arm(CommitCut.LoseCommit, mark: "commit lost");
        using var refused = await CreateAsync(server, "commit lost");

        Assert.Equal(1, proxy.Cuts);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
        Assert.Equal("storage_unavailable", (await refused.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("code").GetString());
        Assert.NotNull(refused.Headers.RetryAfter);
        Assert.Equal(0, Rows(database, "commit lost"));

        // The backend whose client vanished held the log's lock, idle in its transaction: the gateway ended it, so the
        // retry (and every other node's appends) goes through.
        Assert.Equal(0, database.QueryLong("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND state = 'idle in transaction'"));
        using var retried = await CreateAsync(server, "commit lost");
        Assert.Equal(HttpStatusCode.Created, retried.StatusCode);
        Assert.Equal(1, Rows(database, "commit lost"));
    }

    [Fact]
    public async Task A_commit_whose_outcome_the_database_cannot_be_asked_about_is_answered_as_unknown_and_a_retry_with_its_id_is_no_duplicate()
    {
        var (database, proxy, server) = await StartAsync(waitSeconds: "1");
        await using var _database = database;
        await using var _proxy = proxy;
        using var _server = server;
        var (client, received) = await MultiNodeDeliveryTests.SubscribeAsync(server, HttpTransportType.WebSockets, messagePack: false);
        await using var _client = client;

        proxy.Arm(CommitCut.LoseAnswer, thenUnreachable: true, mark: "outcome unknown");
        var id = Guid.NewGuid().ToString();
        using var response = await CreateAsync(server, "outcome unknown", id);

        Assert.Equal(1, proxy.Cuts);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(HubErrorCodes.CommitOutcomeUnknown, problem.GetProperty("code").GetString());
        Assert.Null(response.Headers.RetryAfter);

        // It did commit: once the database is back, the create sent again is refused as a duplicate, the row is there
        // once, and its events reach subscribers, exactly once.
        proxy.RefuseConnections = false;
        HttpResponseMessage? retried = null;
        await SessionRowTests.Eventually(
            () => (retried = CreateAsync(server, "outcome unknown", id).Result).StatusCode != HttpStatusCode.ServiceUnavailable,
            TimeSpan.FromSeconds(20),
            "the retry answered by a database that is back");
        Assert.Equal(HttpStatusCode.Conflict, retried!.StatusCode);
        Assert.Equal(1, Rows(database, "outcome unknown"));
        var logged = database.QueryLongs($"SELECT id FROM gateway_events WHERE task_id = '{id}'");
        await SessionRowTests.Eventually(() => logged.All(received.Contains), TimeSpan.FromSeconds(20), "the committed change's events delivered");
        Assert.Equal(received.Count, received.Distinct().Count());
    }
}
