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
    public static async Task<WriteResult> RunGatewayAsync(BenchOptions options, HubTarget gateway)
    {
        var drivers = new HubConnection[options.WriteConcurrency];
        for (var i = 0; i < drivers.Length; i++)
        {
            drivers[i] = await gateway.ConnectAsync();
        }

        var tasks = await gateway.PrepareTasksAsync(drivers[0], drivers.Length);
        var running = new bool[drivers.Length];
        Array.Fill(running, true);

        // Warm-up until the server's JIT has settled on the change path, then the measured run.
        var warmUp = await WarmUp.UntilJitSettlesAsync(
            gateway.Server,
            async window => (await DriveAsync(drivers, tasks, running, window, new Latency())).Changes,
            minSeconds: options.Quick ? 1 : 3,
            maxSeconds: options.Quick ? 5 : 30);
        Console.Error.WriteLine($"  d: Gateway {warmUp}");
        var commitsBefore = await gateway.CommitsAsync();
        var cpuBefore = gateway.Server.CpuSeconds();
        var latency = new Latency();
        var clock = Stopwatch.StartNew();
        var (changes, errors) = await DriveAsync(drivers, tasks, running, TimeSpan.FromSeconds(options.WriteSeconds), latency);
        var seconds = clock.Elapsed.TotalSeconds;
        var cpu = gateway.Server.CpuSeconds() - cpuBefore;
        var commits = await gateway.CommitsAsync() - commitsBefore;
        await Task.WhenAll(drivers.Select(d => d.DisposeAsync().AsTask()));
        var result = new WriteResult(
            "Gateway", changes / seconds, commits / seconds, changes / (double)Math.Max(1, commits), latency.Summary(), cpu / seconds * 100, cpu / Math.Max(1, changes) * 1e6, errors);
        Console.Error.WriteLine(
            $"  d: Gateway {result.ChangesPerSecond:0} changes/s ({result.ChangesPerSecond * 2:0} rows/s), {result.CommitsPerSecond:0} commits/s, {result.ChangesPerCommit:0.0} changes/commit, p99 {result.Latency!.P99:0.0} ms, cpu {result.ServerCpuPercent:0}% ({result.CpuMicrosPerChange:0} µs per change), errors {result.Errors}");
        return result;
    }

    /// <summary>Each driver toggles its own task running/paused in a closed loop until the time is up.</summary>
    private static async Task<(long Changes, long Errors)> DriveAsync(HubConnection[] drivers, string[] tasks, bool[] running, TimeSpan duration, Latency latency)
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

    public static async Task<WriteResult> RunRawAsync(BenchOptions options)
    {
        var dir = Path.Combine(options.WorkDir, "c");
        Directory.CreateDirectory(dir);
        var database = Path.Combine(dir, "c.db");
        var environment = HubTarget.GatewayEnvironment(options, dir);
        environment["DATABASE_URL"] = "sqlite:" + database;
        var (code, _, error) = await HubTarget.RunGatewayCliAsync(options, environment, "migrate", "run");
        if (code != 0)
        {
            throw new InvalidOperationException($"migrate run failed ({code}): {error}");
        }

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

        foreach (var arg in new[]
        {
            options.BaselinesDll, "c", database, options.WriteSeconds.ToString(CultureInfo.InvariantCulture),
            options.WriteConcurrency.ToString(CultureInfo.InvariantCulture), options.WriteConcurrency.ToString(CultureInfo.InvariantCulture),
        })
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
        var result = new WriteResult("C", changesPerSecond, commitsPerSecond, changesPerSecond / commitsPerSecond, null, null, null, 0);
        Console.Error.WriteLine($"  d: C       {result.ChangesPerSecond:0} changes/s ({result.ChangesPerSecond * 2:0} rows/s), {result.CommitsPerSecond:0} commits/s");
        return result;
    }
}

/// <param name="ChangesPerSecond">Committed status changes per second; each is two rows (the task update and its event).</param>
internal sealed record WriteResult(
    string System,
    double ChangesPerSecond,
    double CommitsPerSecond,
    double ChangesPerCommit,
    LatencySummary? Latency,
    double? ServerCpuPercent,
    double? CpuMicrosPerChange,
    long Errors);
