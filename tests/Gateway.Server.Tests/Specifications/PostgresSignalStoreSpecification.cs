using Gateway.Server.Cluster;
using Gateway.Server.Sessions;

namespace Gateway.Server.Tests.Specifications;

/// <summary><see cref="SignalStoreSpecification"/> on a PostgreSQL database migrated as the server migrates it.</summary>
public sealed class PostgresSignalStoreSpecification : SignalStoreSpecification
{
    private readonly List<IAsyncDisposable> _owned = [];

    internal override async Task<(ISignalStore Signals, ISessionStore Sessions)> CreateStoresAsync()
    {
        var (_, dataSource) = await PostgresSpecificationDatabase.CreateAsync("signals", _owned);
        return (new PostgresSignalStore(dataSource), new PostgresSessionStore(dataSource));
    }

    public override async Task DisposeAsync()
    {
        foreach (var owned in _owned)
        {
            await owned.DisposeAsync();
        }
    }
}
