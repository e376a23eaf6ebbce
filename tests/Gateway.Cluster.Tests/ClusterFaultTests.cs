using System.Diagnostics;
using Gateway.Testing;
using Xunit.Abstractions;

namespace Gateway.Cluster.Tests;

/// <summary>
/// Three nodes behind HAProxy under a steady load of changes and subscribers on every transport, while nodes are
/// restarted and killed: no subscriber misses or repeats an event, no acknowledged change is lost. The figures of each
/// run are written to the test output.
/// </summary>
public sealed class ClusterFaultTests(ITestOutputHelper output)
{
    [Fact]
    public async Task A_rolling_restart_moves_every_client_to_another_node_and_loses_or_repeats_nothing()
    {
        await using var database = await TestPostgres.CreateMigratedDatabaseAsync("rolling");
        await using var cluster = await LocalCluster.StartAsync(database.Url);
        await using var load = await Workload.StartAsync(cluster.Address);
        await Task.Delay(500);

        var took = new List<TimeSpan>();
        for (var node = 1; node <= 3; node++)
        {
            var restart = Stopwatch.StartNew();
            await cluster.StopNodeAsync(node);
            await cluster.StartNodeAsync(node);
            took.Add(restart.Elapsed);
            // The balancer must see it up again before the next one goes, or two nodes are out at once.
            await Balancer.WaitForAsync(cluster, node, "UP", TimeSpan.FromSeconds(15));
        }

        await Task.Delay(500);
        await load.StopWritingAsync();
        await load.AssertNothingLostOrRepeatedAsync(database, cluster.Output);

        // Every node was restarted, so every client was moved at least once, each time to a node that was up.
        Assert.All(load.Subscribers, s => Assert.True(s.Reconnects >= 1, $"{s.Transport} never reconnected: {string.Join(" ", s.Nodes)}"));
        output.WriteLine(
            $"rolling restart: restarts {string.Join(", ", took.Select(t => $"{t.TotalSeconds:F1} s"))}; "
            + $"{load.Acknowledged.Count} changes acknowledged, {load.FailedAttempts} attempts sent again, longest create {load.LongestCreate.TotalMilliseconds:F0} ms; "
            + $"reconnects per subscriber {string.Join(" ", load.Subscribers.Select(s => s.Reconnects))}");
    }

    [Fact]
    public async Task A_node_killed_under_load_loses_no_acknowledged_change_and_its_clients_resume_on_the_others()
    {
        await using var database = await TestPostgres.CreateMigratedDatabaseAsync("killed");
        await using var cluster = await LocalCluster.StartAsync(database.Url);
        await using var load = await Workload.StartAsync(cluster.Address);
        await Task.Delay(1000);
        var onVictim = load.Subscribers.Where(s => s.Nodes.Last() == LocalCluster.NodeId(2)).ToList();
        Assert.NotEmpty(onVictim);
        var reconnectsBefore = load.Subscribers.ToDictionary(s => s, s => s.Reconnects);

        var killed = Stopwatch.StartNew();
        await cluster.KillNodeAsync(2);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (onVictim.Any(s => s.Reconnects == reconnectsBefore[s]) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(50);
        }

        var allBack = killed.Elapsed;
        Assert.All(onVictim, s => Assert.True(s.Reconnects > reconnectsBefore[s], $"{s.Transport} on node-2 never came back"));
        Assert.All(onVictim, s => Assert.NotEqual(LocalCluster.NodeId(2), s.Nodes.Last()));
        await Balancer.WaitForAsync(cluster, 2, "DOWN", TimeSpan.FromSeconds(15));
        var markedDown = killed.Elapsed;

        // Its peers close its sessions as node_lost once it is unbeaten past Node:LostAfterSeconds (3 s here).
        var lost = TimeSpan.Zero;
        while (database.QueryLong("SELECT count(*) FROM sessions WHERE is_active::int = 1 AND metadata::jsonb->>'nodeId' = 'node-2'") > 0)
        {
            Assert.True(killed.Elapsed < TimeSpan.FromSeconds(20), "node-2's sessions were never closed by a peer");
            await Task.Delay(100);
        }

        lost = killed.Elapsed;
        await Task.Delay(1000);
        await load.StopWritingAsync();
        await load.AssertNothingLostOrRepeatedAsync(database, cluster.Output);
        output.WriteLine(
            $"kill -9 of node-2 with {onVictim.Count} of {load.Subscribers.Count} subscribers on it: all back on other nodes after {allBack.TotalMilliseconds:F0} ms, "
            + $"balancer marked it down after {markedDown.TotalMilliseconds:F0} ms, its sessions closed as node_lost after {lost.TotalMilliseconds:F0} ms; "
            + $"{load.Acknowledged.Count} changes acknowledged, {load.FailedAttempts} attempts sent again, longest create {load.LongestCreate.TotalMilliseconds:F0} ms");
    }
}
