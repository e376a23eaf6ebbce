using Gateway.Data;
using Gateway.Server.Events;
using Gateway.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Gateway.Server.Tests.Specifications;

/// <summary><see cref="EventLogSpecification"/> on SQLite files migrated as the server migrates them.</summary>
public sealed class SqliteEventLogSpecification : EventLogSpecification
{
    private readonly List<(TemporarySqliteFile File, ServiceProvider Services)> _databases = [];
    private IDbContextFactory<GatewayDbContext>? _contexts;

    internal override async Task<IEventLog> CreateLogAsync()
    {
        var file = new TemporarySqliteFile("events.db");
        await (await file.OpenFullyMigratedAsync()).DisposeAsync();
        var services = new ServiceCollection().AddGatewayDbContext(file.ConnectionString).BuildServiceProvider();
        _databases.Add((file, services));
        var contexts = services.GetRequiredService<IDbContextFactory<GatewayDbContext>>();
        _contexts ??= contexts;
        return new SqliteEventLog(contexts);
    }

    /// <summary>As a node's change writer opens it: with SQLite's own busy timeout, so writers wait for each other's lock.</summary>
    internal override GatewayDbContext NewChange()
    {
        var change = _contexts!.CreateDbContext();
        change.Database.OpenConnection();
        Gateway.Server.Sessions.SqliteBusyTimeout.Apply((Microsoft.Data.Sqlite.SqliteConnection)change.Database.GetDbConnection());
        return change;
    }

    public override async Task DisposeAsync()
    {
        foreach (var (file, services) in _databases)
        {
            await services.DisposeAsync();
            file.Dispose();
        }
    }
}
