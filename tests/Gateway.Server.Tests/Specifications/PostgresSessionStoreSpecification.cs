using Gateway.Data;
using Gateway.Server.Sessions;
using Gateway.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace Gateway.Server.Tests.Specifications;

/// <summary><see cref="SessionStoreSpecification"/> on a PostgreSQL database migrated as the server migrates it.</summary>
public sealed class PostgresSessionStoreSpecification : SessionStoreSpecification
{
    private readonly List<IAsyncDisposable> _owned = [];
    private TemporaryPostgresDatabase? _database;
    private ServiceProvider? _services;

    internal override async Task<ISessionStore> CreateStoreAsync()
    {
        var (database, dataSource) = await PostgresSpecificationDatabase.CreateAsync("sessions", _owned);
        _database = database;
        _services = new ServiceCollection().AddGatewayPostgresDbContext(database.ConnectionString).BuildServiceProvider();
        _owned.Insert(0, _services);
        return new PostgresSessionStore(dataSource);
    }

    internal override GatewayDbContext NewContext() => _services!.GetRequiredService<IDbContextFactory<GatewayDbContext>>().CreateDbContext();

    internal override async Task SeedNodeAsync(string nodeId, DateTime lastSeen)
    {
        await using var connection = _database!.Open();
        await using var insert = new NpgsqlCommand("INSERT INTO gateway_nodes (id, instance_id, version, started_at, last_seen) VALUES (@id, 'test', 'test', @at, @at)", connection);
        insert.Parameters.AddWithValue("id", nodeId);
        insert.Parameters.AddWithValue("at", lastSeen);
        await insert.ExecuteNonQueryAsync();
    }

    public override async Task DisposeAsync()
    {
        foreach (var owned in _owned)
        {
            await owned.DisposeAsync();
        }
    }
}

/// <summary>A fresh database on the test PostgreSQL with both migration sets applied, and a data source on it.</summary>
internal static class PostgresSpecificationDatabase
{
    /// <param name="owned">Gets the data source and the database, disposed in that order by the caller.</param>
    public static async Task<(TemporaryPostgresDatabase Database, NpgsqlDataSource DataSource)> CreateAsync(string prefix, List<IAsyncDisposable> owned)
    {
        var database = await TestPostgres.CreateMigratedDatabaseAsync(prefix);
        owned.Add(database);

        var dataSource = NpgsqlDataSource.Create(database.ConnectionString);
        owned.Insert(0, dataSource);
        return (database, dataSource);
    }
}
