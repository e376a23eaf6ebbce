using System.Collections.Concurrent;
using System.Diagnostics;
using Gateway.Contracts;
using Microsoft.AspNetCore.SignalR.Client;

namespace Gateway.Bench;

/// <summary>
/// Scenario e: several gateway nodes on one SQLite file (scenario g: on one PostgreSQL database, where every node's
/// appends serialise on the event log's advisory lock and other nodes' commits arrive by notification). The write ceiling with 1, 2 and 3 nodes (the same closed loop
/// as scenario d, its drivers spread over the nodes; each node started before its step, so a step runs with exactly
/// that many nodes), then delivery latency at a paced rate with three nodes: from the event's time on the node that
/// committed it to its receipt by a subscriber on that node (the baseline) and on the two others. Every node runs on
/// the server core.
/// </summary>
internal static class ClusterScenario
{
    private const int Nodes = 3;

    /// <param name="postgresUrl">The nodes' PostgreSQL database (scenario g); null: one SQLite file (scenario e).</param>
    public static async Task<ClusterResult> RunAsync(BenchOptions options, string token, string? postgresUrl = null)
    {
        var label = postgresUrl is null ? "e" : "g";
        var data = Path.Combine(options.WorkDir, "e-data");
        var nodes = new List<HubTarget>();
        var ceilings = new List<double>();
        try
        {
            string[]? tasks = null;
            for (var count = 1; count <= Nodes; count++)
            {
                nodes.Add(postgresUrl is null
                    ? await HubTarget.StartGatewayAsync(options, $"e-node-{count}", token, data)
                    : await HubTarget.StartGatewayAsync(options, $"g-node-{count}", token, databaseUrl: postgresUrl));
                var drivers = new HubConnection[options.WriteConcurrency];
                for (var i = 0; i < drivers.Length; i++)
                {
                    drivers[i] = await nodes[i % count].ConnectAsync();
                }

                tasks ??= await nodes[0].PrepareTasksAsync(drivers[0], drivers.Length);
                var running = new bool[drivers.Length];
                await ToggleStateAsync(drivers, tasks, running);
                await WriteScenario.DriveAsync(drivers, tasks, running, TimeSpan.FromSeconds(options.Quick ? 1 : 3), new Latency());
                var clock = Stopwatch.StartNew();
                var (changes, errors) = await WriteScenario.DriveAsync(drivers, tasks, running, TimeSpan.FromSeconds(options.WriteSeconds), new Latency());
                var rate = changes / clock.Elapsed.TotalSeconds;
                ceilings.Add(rate);
                Console.Error.WriteLine($"  {label}: {count} node(s): {rate:0} changes/s, errors {errors}");
                await Task.WhenAll(drivers.Select(d => d.DisposeAsync().AsTask()));
            }

            var (local, remote) = await MeasureDeliveryAsync(options, nodes, tasks!);
            Console.Error.WriteLine($"  {label}: delivery at {options.ClusterRate} changes/s: same node p50 {local.P50:0.0} p99 {local.P99:0.0} ms; other nodes p50 {remote.P50:0.0} p99 {remote.P99:0.0} ms");
            return new ClusterResult([.. ceilings], options.ClusterRate, local, remote);
        }
        finally
        {
            foreach (var node in nodes)
            {
                await node.DisposeAsync();
            }
        }
    }

    /// <summary>Reads each driver's task status as the database holds it after the previous step (each driver toggles its own).</summary>
    private static async Task ToggleStateAsync(HubConnection[] drivers, string[] tasks, bool[] running)
    {
        for (var i = 0; i < running.Length; i++)
        {
            var task = await drivers[0].InvokeAsync<TaskInfo>(nameof(ITaskHub.GetTask), tasks[i]);
            running[i] = task.Status == "running";
        }
    }

    /// <summary>
    /// Ten drivers on node 1 change their tasks at <see cref="BenchOptions.ClusterRate"/> changes/s in all, paced; a
    /// subscriber to everything on each node records, per event, its receipt time minus the event's time.
    /// </summary>
    private static async Task<(LatencySummary Local, LatencySummary Remote)> MeasureDeliveryAsync(BenchOptions options, List<HubTarget> nodes, string[] tasks)
    {
        var latencies = nodes.Select(_ => new Latency()).ToArray();
        var measuring = false;
        var subscribers = new List<HubConnection>();
        for (var n = 0; n < nodes.Count; n++)
        {
            var latency = latencies[n];
            var subscriber = await nodes[n].ConnectAsync(connection => connection.On<GatewayEvent>(nameof(IGatewayClient.EventReceived), e =>
            {
                if (Volatile.Read(ref measuring))
                {
                    // Both clocks are this machine's: the event's time is when its node made it, before the commit.
                    latency.RecordTicks((long)((DateTime.UtcNow - e.Timestamp).TotalSeconds * Stopwatch.Frequency));
                }
            }));
            await subscriber.InvokeAsync<SubscriptionAck>(nameof(IEventSubscriptionHub.Subscribe), new SubscriptionRequest(SubscriptionScopes.All));
            subscribers.Add(subscriber);
        }

        const int Drivers = 10;
        var drivers = new HubConnection[Drivers];
        for (var i = 0; i < Drivers; i++)
        {
            drivers[i] = await nodes[0].ConnectAsync();
        }

        var running = new bool[Drivers];
        await ToggleStateAsync(drivers, tasks, running);
        var interval = TimeSpan.FromSeconds(Drivers / (double)options.ClusterRate);
        async Task PaceAsync(TimeSpan duration)
        {
            var clock = Stopwatch.StartNew();
            await Task.WhenAll(drivers.Select(async (driver, i) =>
            {
                var next = TimeSpan.FromTicks(interval.Ticks * i / Drivers);
                while (clock.Elapsed < duration)
                {
                    var wait = next - clock.Elapsed;
                    if (wait > TimeSpan.Zero)
                    {
                        await Task.Delay(wait);
                    }

                    next += interval;
                    var (status, previous) = running[i] ? ("paused", "running") : ("running", "paused");
                    await driver.InvokeAsync<TaskInfo>(nameof(ITaskHub.ChangeTaskStatus), tasks[i], new ChangeTaskStatusCommand(status, previous));
                    running[i] = !running[i];
                }
            }));
        }

        await PaceAsync(TimeSpan.FromSeconds(options.Quick ? 1 : 3));
        Volatile.Write(ref measuring, true);
        await PaceAsync(TimeSpan.FromSeconds(options.WriteSeconds * 2));
        await Task.Delay(500);
        Volatile.Write(ref measuring, false);
        await Task.WhenAll(drivers.Concat(subscribers).Select(c => c.DisposeAsync().AsTask()));
        var remote = new Latency();
        foreach (var other in latencies.Skip(1))
        {
            remote.Add(other);
        }

        return (latencies[0].Summary(), remote.Summary());
    }
}

/// <param name="ChangesPerSecond">The write ceiling with 1, 2 and 3 nodes.</param>
/// <param name="Rate">The paced rate of the delivery measurement, changes per second.</param>
/// <param name="Local">Event time to receipt on the node that committed it.</param>
/// <param name="Remote">Event time to receipt on the other nodes.</param>
internal sealed record ClusterResult(double[] ChangesPerSecond, int Rate, LatencySummary Local, LatencySummary Remote);
