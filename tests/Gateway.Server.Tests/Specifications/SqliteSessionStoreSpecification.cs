using Gateway.Contracts;
using Gateway.Data;
using Gateway.Data.Conversion;
using Gateway.Server.Database;
using Gateway.Server.Sessions;
using Gateway.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Gateway.Server.Tests.Specifications;

/// <summary><see cref="SessionStoreSpecification"/> on a SQLite file migrated as the server migrates it.</summary>
public sealed class SqliteSessionStoreSpecification : SessionStoreSpecification
{
    // A list, as the event log specification keeps its files: disposed in DisposeAsync.
    private readonly List<TemporarySqliteFile> _files = [];

    private TemporarySqliteFile? File => _files.Count == 0 ? null : _files[^1];
    private ServiceProvider? _services;

    internal override async Task<ISessionStore> CreateStoreAsync()
    {
        var file = new TemporarySqliteFile("sessions.db");
        _files.Add(file);
        await (await file.OpenFullyMigratedAsync()).DisposeAsync();
        _services = new ServiceCollection().AddGatewayDbContext(file.ConnectionString).BuildServiceProvider();
        return new SqliteSessionStore(DatabaseLocation.Resolve(new ConfigurationBuilder().Build(), file.DatabaseUrl));
    }

    internal override GatewayDbContext NewContext() => _services!.GetRequiredService<IDbContextFactory<GatewayDbContext>>().CreateDbContext();

    internal override async Task SeedNodeAsync(string nodeId, DateTime lastSeen)
    {
        await using var connection = File!.Open();
        await using var insert = connection.CreateCommand();
        insert.CommandText = "INSERT INTO gateway_nodes (id, instance_id, version, started_at, last_seen) VALUES ($id, 'test', 'test', $at, $at)";
        insert.Parameters.AddWithValue("$id", nodeId);
        insert.Parameters.AddWithValue("$at", UtcDateTimeConverter.Format(lastSeen));
        await insert.ExecuteNonQueryAsync();
    }

    [Fact]
    public async Task A_row_another_writer_left_with_invalid_metadata_belongs_to_no_node_and_still_closes()
    {
        await OpenAsync(Row("s-1"));
        await using (var connection = File!.Open())
        await using (var corrupt = connection.CreateCommand())
        {
            corrupt.CommandText = "UPDATE sessions SET metadata = '{not json' WHERE id = 's-1'";
            await corrupt.ExecuteNonQueryAsync();
        }

        Assert.Empty(await InBatchAsync(batch => batch.CloseNodeAsync("node-a", CloseReasons.NodeLost, DateTime.UtcNow, CancellationToken.None)));
        Assert.True(await InBatchAsync(batch => batch.CloseAsync("s-1", CloseReasons.ClientClosed, null, DateTime.UtcNow, CancellationToken.None)));
        var metadata = System.Text.Json.Nodes.JsonNode.Parse((await ReadAsync("s-1"))!.Metadata!)!;
        Assert.Equal(CloseReasons.ClientClosed, (string?)metadata["closeReason"]);
    }

    public override Task DisposeAsync()
    {
        _services?.Dispose();
        _files.ForEach(file => file.Dispose());
        return Task.CompletedTask;
    }
}
