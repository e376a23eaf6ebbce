using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Gateway.Contracts;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;

namespace Gateway.Bench;

/// <summary>
/// Scenario d: the write ceiling. Gateway: <c>WriteConcurrency</c> connections, each toggling its own task
/// running ↔ paused through the hub as fast as the answers come back (closed loop, so that many changes are in
/// flight): every change is a task row update plus its task.status event row, committed by the change writer.
/// C: the same two rows per change with raw Microsoft.Data.Sqlite, <c>WriteConcurrency</c> changes per transaction,
/// in its own process on the server core.
/// </summary>
internal static class WriteScenario
{
    /// <summary>
    /// Gateway and C alternate, <c>WriteRounds</c> windows each (Gateway, C, Gateway, C, ...), so that a drift of the
    /// machine during the run (the disk, a neighbour on the host) weighs on both alike; each side's figure is the sum
    /// of its windows, and every window is logged.
    /// </summary>
    public static async Task<(WriteResult Gateway, WriteResult Raw)> RunInterleavedAsync(BenchOptions options, HubTarget gateway)
    {
        await using var drivers = await GatewayDrivers.StartAsync(options, gateway);
        var gatewayWindows = new List<WriteResult>();
        var rawWindows = new List<WriteResult>();
        for (var round = 1; round <= options.WriteRounds; round++)
        {
            gatewayWindows.Add(await drivers.MeasureAsync(options, round));
            rawWindows.Add(await RunRawAsync(options, round));
        }

        return (Combine("Gateway", gatewayWindows), Combine("C", rawWindows));
    }

    /// <summary>
    /// Scenario f: scenario d on PostgreSQL. Gateway, C (raw Npgsql, the same rows, <c>WriteConcurrency</c> changes per
    /// transaction) and C+lock (C taking the event log's advisory lock first in each transaction, as the gateway does)
    /// alternate window by window, each in a database of its own on the same server.
    /// </summary>
    public static async Task<PostgresWriteResults> RunPostgresAsync(BenchOptions options, string token)
    {
        var suffix = Environment.ProcessId.ToString(CultureInfo.InvariantCulture);
        var gatewayDatabase = await HubTarget.CreatePostgresDatabaseAsync(options, "bench_f_gateway_" + suffix);
        var rawDatabase = HubTarget.PostgresConnectionString(await HubTarget.MigratedPostgresDatabaseAsync(options, Path.Combine(options.WorkDir, "f-c"), "bench_f_c_" + suffix));
        await using var gateway = await HubTarget.StartGatewayAsync(options, "f-gateway", token, databaseUrl: gatewayDatabase);
        await using var drivers = await GatewayDrivers.StartAsync(options, gateway);
        var gatewayWindows = new List<WriteResult>();
        var rawWindows = new List<WriteResult>();
        var lockedWindows = new List<WriteResult>();
        for (var round = 1; round <= options.WriteRounds; round++)
        {
            gatewayWindows.Add(await drivers.MeasureAsync(options, round));
            rawWindows.Add(await RunBaselineAsync(options, round, "C", ["c-pg", rawDatabase], []));
            lockedWindows.Add(await RunBaselineAsync(options, round, "C+lock", ["c-pg", rawDatabase], ["--lock"]));
        }

        return new(Combine("Gateway", gatewayWindows), Combine("C", rawWindows), Combine("C+lock", lockedWindows));
    }

    /// <summary>The windows as one: rates over the summed time, CPU over the summed changes, the slowest window's p99.</summary>
    private static WriteResult Combine(string system, List<WriteResult> windows)
    {
        var seconds = windows.Sum(w => w.Seconds);
        var changes = windows.Sum(w => w.ChangesPerSecond * w.Seconds);
        var commits = windows.Sum(w => w.CommitsPerSecond * w.Seconds);
        var cpuSeconds = windows.Sum(w => (w.ServerCpuPercent ?? 0) / 100 * w.Seconds);
        var latency = windows.Any(w => w.Latency is null) ? null : windows.Select(w => w.Latency!).MaxBy(l => l.P99);
        return new WriteResult(
            system,
            changes / seconds,
            commits / seconds,
            changes / Math.Max(1, commits),
            latency,
            windows.Any(w => w.ServerCpuPercent is null) ? null : cpuSeconds / seconds * 100,
            windows.Any(w => w.CpuMicrosPerChange is null) ? null : cpuSeconds / Math.Max(1, changes) * 1e6,
            windows.Sum(w => w.Errors),
            seconds,
            [.. windows.Select(w => w.ChangesPerSecond)]);
    }

    /// <summary><c>WriteConcurrency</c> hub connections, each with its own task, warmed up once for every window.</summary>
    private sealed class GatewayDrivers : IAsyncDisposable
    {
        private readonly HubTarget _gateway;
        private readonly HubConnection[] _drivers;
        private readonly string[] _tasks;
        private readonly bool[] _running;

        private GatewayDrivers(HubTarget gateway, HubConnection[] drivers, string[] tasks)
        {
            _gateway = gateway;
            _drivers = drivers;
            _tasks = tasks;
            _running = new bool[drivers.Length];
            Array.Fill(_running, true);
        }

        public static async Task<GatewayDrivers> StartAsync(BenchOptions options, HubTarget gateway)
        {
            var connections = new HubConnection[options.WriteConcurrency];
            for (var i = 0; i < connections.Length; i++)
            {
                connections[i] = await gateway.ConnectAsync();
            }

            var drivers = new GatewayDrivers(gateway, connections, await gateway.PrepareTasksAsync(connections[0], connections.Length));
            // Warm-up until the server's JIT has settled on the change path, then the measured windows.
            var warmUp = await WarmUp.UntilJitSettlesAsync(
                gateway.Server,
                async window => (await DriveAsync(drivers._drivers, drivers._tasks, drivers._running, window, new Latency())).Changes,
                minSeconds: options.Quick ? 1 : 3,
                maxSeconds: options.Quick ? 5 : 30);
            Console.Error.WriteLine($"  d: Gateway {warmUp}");
            return drivers;
        }

        public async Task<WriteResult> MeasureAsync(BenchOptions options, int round)
        {
            var commitsBefore = await _gateway.CommitsAsync();
            var cpuBefore = _gateway.Server.CpuSeconds();
            var latency = new Latency();
            var clock = Stopwatch.StartNew();
            var (changes, errors) = await DriveAsync(_drivers, _tasks, _running, TimeSpan.FromSeconds(options.WriteSeconds), latency);
            var seconds = clock.Elapsed.TotalSeconds;
            var cpu = _gateway.Server.CpuSeconds() - cpuBefore;
            var commits = await _gateway.CommitsAsync() - commitsBefore;
            var result = new WriteResult(
                "Gateway", changes / seconds, commits / seconds, changes / (double)Math.Max(1, commits), latency.Summary(), cpu / seconds * 100,
                cpu / Math.Max(1, changes) * 1e6, errors, seconds, null);
            Console.Error.WriteLine(
                $"  d: Gateway round {round}: {result.ChangesPerSecond:0} changes/s ({result.ChangesPerSecond * 2:0} rows/s), {result.CommitsPerSecond:0} commits/s, {result.ChangesPerCommit:0.0} changes/commit, p99 {result.Latency!.P99:0.0} ms, cpu {result.ServerCpuPercent:0}% ({result.CpuMicrosPerChange:0} µs per change), errors {result.Errors}");
            return result;
        }

        public async ValueTask DisposeAsync() => await Task.WhenAll(_drivers.Select(d => d.DisposeAsync().AsTask()));
    }

    /// <summary>Each driver toggles its own task running/paused in a closed loop until the time is up.</summary>
    internal static async Task<(long Changes, long Errors)> DriveAsync(HubConnection[] drivers, string[] tasks, bool[] running, TimeSpan duration, Latency latency)
    {
        var changes = 0L;
        var errors = 0L;
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(drivers.Select(async (driver, i) =>
        {
            while (clock.Elapsed < duration)
            {
                var (status, previous) = running[i] ? ("paused", "running") : ("running", "paused");
                var started = Stopwatch.GetTimestamp();
                try
                {
                    await driver.InvokeAsync<TaskInfo>(nameof(ITaskHub.ChangeTaskStatus), tasks[i], new ChangeTaskStatusCommand(status, previous));
                    latency.RecordTicks(Stopwatch.GetTimestamp() - started);
                    Interlocked.Increment(ref changes);
                    running[i] = !running[i];
                }
                catch (HubException)
                {
                    Interlocked.Increment(ref errors);
                }
            }
        }));
        return (changes, errors);
    }

    private static async Task<WriteResult> RunRawAsync(BenchOptions options, int round) =>
        await RunBaselineAsync(options, round, "C", ["c", await HubTarget.MigratedDatabaseAsync(options, Path.Combine(options.WorkDir, $"c-{round}"), "c.db")], []);

    /// <summary>A baseline writer in its own process: <paramref name="command"/> (its kind and database), then seconds, batch and tasks, then <paramref name="flags"/>.</summary>
    private static async Task<WriteResult> RunBaselineAsync(BenchOptions options, int round, string system, string[] command, string[] flags)
    {
        var info = new ProcessStartInfo { RedirectStandardOutput = true, UseShellExecute = false };
        if (options.ServerCpus is { } cpus)
        {
            info.FileName = "taskset";
            info.ArgumentList.Add("-c");
            info.ArgumentList.Add(cpus);
            info.ArgumentList.Add("dotnet");
        }
        else
        {
            info.FileName = "dotnet";
        }

        foreach (var arg in (string[])[
            options.BaselinesDll, .. command, options.WriteSeconds.ToString(CultureInfo.InvariantCulture),
            options.WriteConcurrency.ToString(CultureInfo.InvariantCulture), options.WriteConcurrency.ToString(CultureInfo.InvariantCulture), .. flags])
        {
            info.ArgumentList.Add(arg);
        }

        using var process = Process.Start(info)!;
        var output = await process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync();
        using var document = JsonDocument.Parse(output.Trim().Split('\n')[^1]);
        var root = document.RootElement;
        var changesPerSecond = root.GetProperty("changesPerSecond").GetDouble();
        var seconds = root.GetProperty("seconds").GetDouble();
        var commitsPerSecond = root.GetProperty("transactions").GetInt64() / seconds;
        var result = new WriteResult(system, changesPerSecond, commitsPerSecond, changesPerSecond / commitsPerSecond, null, null, null, 0, seconds, null);
        Console.Error.WriteLine($"  d: {system,-7} round {round}: {result.ChangesPerSecond:0} changes/s ({result.ChangesPerSecond * 2:0} rows/s), {result.CommitsPerSecond:0} commits/s");
        return result;
    }
}

/// <summary>Scenario f: Gateway, raw Npgsql, raw Npgsql with the event log's advisory lock, on one PostgreSQL server.</summary>
internal sealed record PostgresWriteResults(WriteResult Gateway, WriteResult Raw, WriteResult RawLocked);

/// <param name="ChangesPerSecond">Committed status changes per second; each is two rows (the task update and its event).</param>
/// <param name="Seconds">Measured time (all windows).</param>
/// <param name="Windows">Changes per second of each window, in order (null for one window).</param>
internal sealed record WriteResult(
    string System,
    double ChangesPerSecond,
    double CommitsPerSecond,
    double ChangesPerCommit,
    LatencySummary? Latency,
    double? ServerCpuPercent,
    double? CpuMicrosPerChange,
    long Errors,
    double Seconds,
    double[]? Windows);
