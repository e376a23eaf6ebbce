using Gateway.Data;
using Gateway.Server.Events;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Gateway.Server.Tests.Specifications;

/// <summary><see cref="EventLogSpecification"/> on PostgreSQL databases migrated as the server migrates them.</summary>
public sealed class PostgresEventLogSpecification : EventLogSpecification
{
    private readonly List<IAsyncDisposable> _owned = [];
    private IDbContextFactory<GatewayDbContext>? _contexts;

    internal override async Task<IEventLog> CreateLogAsync()
    {
        var (database, _) = await PostgresSpecificationDatabase.CreateAsync("events", _owned);
        var services = new ServiceCollection().AddGatewayPostgresDbContext(database.ConnectionString).BuildServiceProvider();
        _owned.Insert(0, services);
        var contexts = services.GetRequiredService<IDbContextFactory<GatewayDbContext>>();
        _contexts ??= contexts;
        return new PostgresEventLog(contexts, "node-spec");
    }

    internal override GatewayDbContext NewChange() => _contexts!.CreateDbContext();

    public override async Task DisposeAsync()
    {
        foreach (var owned in _owned)
        {
            await owned.DisposeAsync();
        }
    }
}
