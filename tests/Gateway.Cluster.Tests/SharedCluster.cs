using Gateway.Testing;

namespace Gateway.Cluster.Tests;

/// <summary>
/// One cluster (three nodes, HAProxy) on one PostgreSQL database for the fault tests of a class, which run one after
/// the other: starting a cluster costs more than most faults. Each test takes it whole (<see cref="WholeAsync"/>) and
/// leaves behind what its fault broke.
/// </summary>
public sealed class SharedCluster : IAsyncLifetime
{
    public TemporaryPostgresDatabase Database { get; private set; } = null!;

    private LocalCluster? _cluster;

    public async Task InitializeAsync()
    {
        Database = await TestPostgres.CreateMigratedDatabaseAsync("cluster");
        _cluster = await LocalCluster.StartAsync(Database.Url);
    }

    /// <summary>The cluster with every node running and up at a running balancer.</summary>
    public async Task<LocalCluster> WholeAsync()
    {
        var cluster = _cluster!;
        for (var node = 1; node <= cluster.Nodes; node++)
        {
            if (!cluster.IsRunning(node))
            {
                await cluster.StartNodeAsync(node);
            }
        }

        if (!cluster.BalancerRunning)
        {
            await cluster.StartBalancerAsync();
        }

        for (var node = 1; node <= cluster.Nodes; node++)
        {
            await Balancer.WaitForAsync(cluster, node, "UP", TimeSpan.FromSeconds(20));
        }

        return cluster;
    }

    public async Task DisposeAsync()
    {
        if (_cluster is not null)
        {
            await _cluster.DisposeAsync();
        }

        await Database.DisposeAsync();
    }
}

/// <summary>
/// The cluster tests run one class at a time: each runs a cluster of processes, and three at once would take the
/// machine from the suite's other tests.
/// </summary>
[CollectionDefinition(Name)]
public sealed class ClusterCollection
{
    public const string Name = "clusters, one at a time";
}
