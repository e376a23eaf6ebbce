using System.Diagnostics;
using System.Net;
using Gateway.Testing;
using Xunit.Abstractions;

namespace Gateway.Cluster.Tests;

/// <summary>
/// Three nodes behind HAProxy on a PostgreSQL server of the test's own, which crashes and comes back under load: every
/// node stops serving, then all serve again by themselves, no subscriber misses or repeats an event and no
/// acknowledged change is lost. The figures of the run are written to the test output.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class ClusterDatabaseOutageTests(ITestOutputHelper output)
{
    [Fact]
    public async Task PostgreSQL_crashed_and_restarted_under_the_cluster_stops_every_node_and_all_serve_again_by_themselves()
    {
        await using var postgres = await OwnPostgresCluster.StartAsync();
        // Not disposed: it goes with its cluster, whose crash broke the pooled connections a drop would use.
        var database = await postgres.CreateDatabaseAsync("gateway");
        await using var cluster = await LocalCluster.StartAsync(database.DatabaseUrl);
        await using var load = await Workload.StartAsync(cluster.Address);
        await load.WaitForAcknowledgedAsync(20);
        var reconnectsBefore = load.Subscribers.ToDictionary(s => s, s => s.Reconnects);

        var down = Stopwatch.StartNew();
        await postgres.HaltAsync();
        // Every node stops serving once it has gone half of Node:LostAfterSeconds (3 s here) without the database.
        await ClusterChecks.WaitAsync(async () => (await Task.WhenAll(Enumerable.Range(1, 3).Select(n => ClusterChecks.ReadyAsync(cluster.NodeAddress(n))))).All(ready => !ready), TimeSpan.FromSeconds(15), "every node not ready");
        var allUnready = down.Elapsed;
        await Task.Delay(TimeSpan.FromSeconds(4) - down.Elapsed is { Ticks: > 0 } rest ? rest : TimeSpan.Zero);

        await postgres.RestartAsync();
        var back = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(1, 3).Select(n => LocalCluster.WaitReadyAsync(cluster.NodeAddress(n), TimeSpan.FromSeconds(30))));
        var allReady = back.Elapsed;
        await ClusterChecks.WaitAsync(() => Task.FromResult(load.Subscribers.All(s => s.Reconnects > reconnectsBefore[s])), TimeSpan.FromSeconds(30), "every subscriber reconnected");
        var allReconnected = back.Elapsed;
        await load.WaitForAcknowledgedAsync(20);
        await load.StopWritingAsync();
        await load.AssertNothingLostOrRepeatedAsync(database, cluster.Output);

        // Every node came back at once: none took the others for lost and closed their sessions.
        Assert.Equal(0, database.QueryLong("SELECT count(*) FROM sessions WHERE metadata::jsonb->>'closeReason' = 'node_lost'"));
        await ClusterChecks.AssertSessionsMatchAsync(database, load, cluster);
        output.WriteLine(
            $"PostgreSQL halted for {TimeSpan.FromSeconds(4).TotalSeconds:F0} s under the cluster: every node not ready after {allUnready.TotalMilliseconds:F0} ms; "
            + $"after its restart every node ready in {allReady.TotalMilliseconds:F0} ms, every subscriber resumed in {allReconnected.TotalMilliseconds:F0} ms; "
            + $"{load.Acknowledged.Count} changes acknowledged, {load.FailedAttempts} attempts sent again, longest create {load.LongestCreate.TotalMilliseconds:F0} ms");
    }
}
