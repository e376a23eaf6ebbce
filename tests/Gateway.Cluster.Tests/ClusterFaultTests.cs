using System.Diagnostics;
using System.Net;
using Gateway.Testing;
using Xunit.Abstractions;

namespace Gateway.Cluster.Tests;

/// <summary>
/// Three nodes behind HAProxy under a steady load of changes and subscribers on every transport, while nodes are
/// restarted, killed and stalled and the balancer is killed: no subscriber misses or repeats an event, no acknowledged
/// change is lost, and the cluster serves again by itself. The tests share one cluster, each taking it whole. The
/// figures of each run are written to the test output.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class ClusterFaultTests(SharedCluster shared, ITestOutputHelper output) : IClassFixture<SharedCluster>
{
    [Fact]
    public async Task A_rolling_restart_moves_every_client_to_another_node_and_loses_or_repeats_nothing()
    {
        var (database, cluster) = (shared.Database, await shared.WholeAsync());
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
        var (database, cluster) = (shared.Database, await shared.WholeAsync());
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

    [Fact]
    public async Task A_stalled_node_is_taken_out_its_clients_resume_elsewhere_and_it_serves_again_once_it_runs()
    {
        var (database, cluster) = (shared.Database, await shared.WholeAsync());
        await using var load = await Workload.StartAsync(cluster.Address);
        await load.WaitForAcknowledgedAsync(20);
        var onVictim = load.Subscribers.Where(s => s.Nodes.Last() == LocalCluster.NodeId(2)).ToList();
        Assert.NotEmpty(onVictim);
        var reconnectsBefore = load.Subscribers.ToDictionary(s => s, s => s.Reconnects);

        var paused = Stopwatch.StartNew();
        await cluster.PauseNodeAsync(2);
        await Balancer.WaitForAsync(cluster, 2, "DOWN", TimeSpan.FromSeconds(15));
        var markedDown = paused.Elapsed;
        await ClusterChecks.WaitAsync(() => Task.FromResult(onVictim.All(s => s.Reconnects > reconnectsBefore[s])), TimeSpan.FromSeconds(30), "node-2's subscribers reconnected");
        var moved = paused.Elapsed;
        Assert.All(onVictim, s => Assert.NotEqual(LocalCluster.NodeId(2), s.Nodes.Last()));
        // Stalled past Node:LostAfterSeconds (3 s here): its peers close its sessions as lost.
        await ClusterChecks.WaitAsync(() => Task.FromResult(ActiveOn(database, 2) == 0), TimeSpan.FromSeconds(20), "node-2's sessions closed by a peer");
        var lost = paused.Elapsed;
        await Task.Delay(TimeSpan.FromSeconds(5) - paused.Elapsed is { Ticks: > 0 } rest ? rest : TimeSpan.Zero);

        await cluster.ResumeNodeAsync(2);
        var resumed = Stopwatch.StartNew();
        await Balancer.WaitForAsync(cluster, 2, "UP", TimeSpan.FromSeconds(20));
        var upAgain = resumed.Elapsed;
        using (var direct = new HttpClient { BaseAddress = cluster.NodeAddress(2) })
        {
            using var nodes = new HttpRequestMessage(HttpMethod.Get, new Uri("/health/ready", UriKind.Relative));
            Assert.Equal(HttpStatusCode.OK, (await direct.SendAsync(nodes)).StatusCode);
        }

        await load.WaitForAcknowledgedAsync(20);
        await load.StopWritingAsync();
        await load.AssertNothingLostOrRepeatedAsync(database, cluster.Output);
        await ClusterChecks.AssertSessionsMatchAsync(database, load, cluster);
        output.WriteLine(
            $"node-2 stalled (SIGSTOP) for 5 s with {onVictim.Count} of {load.Subscribers.Count} subscribers on it: balancer marked it down after {markedDown.TotalMilliseconds:F0} ms, "
            + $"its subscribers resumed elsewhere after {moved.TotalMilliseconds:F0} ms, its sessions closed as node_lost after {lost.TotalMilliseconds:F0} ms; "
            + $"once it ran again, up at the balancer after {upAgain.TotalMilliseconds:F0} ms; "
            + $"{load.Acknowledged.Count} changes acknowledged, {load.FailedAttempts} attempts sent again, longest create {load.LongestCreate.TotalMilliseconds:F0} ms");
    }

    [Fact]
    public async Task The_balancer_killed_and_started_again_loses_nothing_and_every_client_comes_back_through_it()
    {
        var (database, cluster) = (shared.Database, await shared.WholeAsync());
        await using var load = await Workload.StartAsync(cluster.Address);
        await load.WaitForAcknowledgedAsync(20);
        var reconnectsBefore = load.Subscribers.ToDictionary(s => s, s => s.Reconnects);

        var killed = Stopwatch.StartNew();
        await cluster.StopBalancerAsync();
        await Task.Delay(1000);
        await cluster.StartBalancerAsync();
        var started = killed.Elapsed;
        await ClusterChecks.WaitAsync(() => Task.FromResult(load.Subscribers.All(s => s.Reconnects > reconnectsBefore[s])), TimeSpan.FromSeconds(30), "every subscriber reconnected");
        var allBack = killed.Elapsed;
        await load.WaitForAcknowledgedAsync(20);
        await load.StopWritingAsync();
        await load.AssertNothingLostOrRepeatedAsync(database, cluster.Output);
        await ClusterChecks.AssertSessionsMatchAsync(database, load, cluster);
        output.WriteLine(
            $"balancer killed, started again after 1 s (ready through it at {started.TotalMilliseconds:F0} ms): every subscriber resumed after {allBack.TotalMilliseconds:F0} ms; "
            + $"{load.Acknowledged.Count} changes acknowledged, {load.FailedAttempts} attempts sent again, longest create {load.LongestCreate.TotalMilliseconds:F0} ms");
    }

    private static long ActiveOn(ITestDatabase database, int node) =>
        database.QueryLong($"SELECT count(*) FROM sessions WHERE is_active::int = 1 AND metadata::jsonb->>'nodeId' = '{LocalCluster.NodeId(node)}'");
}
