using Gateway.Server.Tests.Events;
using Gateway.Testing;

namespace Gateway.Server.Tests.Startup;

/// <summary>
/// A SQLite gateway and a PostgreSQL gateway in one process (as the tests host them) each have their own EF Core model;
/// what is compiled once for speed must not be bound to whichever model ran first.
/// </summary>
public sealed class TwoProvidersInOneProcessTests
{
    [Fact]
    public async Task A_sqlite_and_a_postgres_gateway_in_one_process_both_change_tasks()
    {
        using var sqlite = new GatewayTestServer(database: new TemporarySqliteFile("first.db"));
        await using var postgres = await TestPostgres.CreateMigratedDatabaseAsync("second");
        using var onPostgres = new GatewayTestServer(database: postgres);

        // Creates and status changes: the task lookup and the workflows-of-a-task query, compiled once, on each model.
        await MultiNodeDeliveryTests.WriteAsync(sqlite, "agent-s", 2);
        await MultiNodeDeliveryTests.WriteAsync(onPostgres, "agent-p", 2);
        await MultiNodeDeliveryTests.WriteAsync(sqlite, "agent-s", 1);

        Assert.Equal(6, sqlite.Store.QueryLong("SELECT count(*) FROM gateway_events"));
        Assert.Equal(4, postgres.QueryLong("SELECT count(*) FROM gateway_events"));
    }
}
