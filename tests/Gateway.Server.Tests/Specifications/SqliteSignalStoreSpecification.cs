using Gateway.Server.Cluster;
using Gateway.Server.Database;
using Gateway.Server.Sessions;
using Gateway.Testing;
using Microsoft.Extensions.Configuration;

namespace Gateway.Server.Tests.Specifications;

/// <summary><see cref="SignalStoreSpecification"/> on a SQLite file migrated as the server migrates it.</summary>
public sealed class SqliteSignalStoreSpecification : SignalStoreSpecification
{
    // A list, as the event log specification keeps its files: disposed in DisposeAsync.
    private readonly List<TemporarySqliteFile> _files = [];

    internal override async Task<(ISignalStore Signals, ISessionStore Sessions)> CreateStoresAsync()
    {
        var file = new TemporarySqliteFile("signals.db");
        _files.Add(file);
        await (await file.OpenFullyMigratedAsync()).DisposeAsync();
        var database = DatabaseLocation.Resolve(new ConfigurationBuilder().Build(), file.DatabaseUrl);
        return (new SqliteSignalStore(database), new SqliteSessionStore(database));
    }

    public override Task DisposeAsync()
    {
        _files.ForEach(file => file.Dispose());
        return Task.CompletedTask;
    }
}
