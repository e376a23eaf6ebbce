using System.Diagnostics;
using System.Net.WebSockets;
using Gateway.Contracts;
using Microsoft.AspNetCore.SignalR.Client;

namespace Gateway.Bench;

/// <summary>
/// Scenarios c then b on one set of connections. c: <c>Connections</c> clients connect with
/// <c>ConnectsInFlight</c> attempts in flight; a connect ends when the server's first message arrives
/// (ConnectionEstablished, sent by Gateway once the session row is committed; "hello" for B0). Memory per
/// connection is (after − before) / N of RSS and of the managed heap after a full GC. b: the same connections stay
/// idle, then each sends Heartbeat every interval on an open-loop schedule spread evenly over the interval.
/// </summary>
internal static class ConnectionScenario
{
    private const int WarmUpRounds = 8;

    public static async Task<ConnectionResult> RunHubAsync(BenchOptions options, HubTarget target, bool heartbeats)
    {
        var n = options.Connections;

        // Warm-up, not measured: the first connects JIT the server's whole connect path (auth, session, hub), and the
        // tier-1 recompilation of that path takes seconds of load; heartbeats likewise. Rounds of connect, beat, close
        // until the server's JIT settles; then let it settle.
        var warmUpLine = await WarmUp.UntilJitSettlesAsync(
            target.Server,
            async window =>
            {
                var connects = 0L;
                var clock = Stopwatch.StartNew();
                do
                {
                    var warmUp = await Task.WhenAll(Enumerable.Range(0, options.ConnectsInFlight).Select(_ => target.ConnectAsync()));
                    foreach (var connection in warmUp)
                    {
                        await connection.InvokeAsync<HeartbeatReply>(nameof(IGatewayHub.Heartbeat));
                    }

                    await Task.WhenAll(warmUp.Select(c => c.DisposeAsync().AsTask()));
                    connects += warmUp.Length;
                }
                while (clock.Elapsed < window);
                return connects;
            },
            minSeconds: options.Quick ? 1 : 3,
            maxSeconds: options.Quick ? 5 : 20);
        Console.Error.WriteLine($"  c: {target.Name,-7} {warmUpLine} (connects; not reported)");

        if (target.IsGateway)
        {
            // Wait for the warm-up sessions to be closed, so the ramp's count of active rows starts from zero.
            var settle = Stopwatch.StartNew();
            while (target.ActiveSessionRows() > 0 && settle.Elapsed < TimeSpan.FromSeconds(10))
            {
                await Task.Delay(20);
            }
        }

        await SettleAsync(target.Server);

        var rssBefore = target.Server.RssBytes();
        var heapBefore = await target.Server.ManagedHeapAfterGcAsync();
        var generatorRssBefore = ServerProcess.RssBytesOf(Environment.ProcessId);
        var cpuBefore = target.Server.CpuSeconds();
        var connections = new HubConnection[n];
        var connectLatency = new Latency();
        long lastConnected = 0;
        var rowsCommittedAt = 0L;
        using var stopPolling = new CancellationTokenSource();
        var poller = target.IsGateway ? Task.Run(async () =>
        {
            while (!stopPolling.IsCancellationRequested)
            {
                if (target.ActiveSessionRows() >= n)
                {
                    Interlocked.Exchange(ref rowsCommittedAt, Stopwatch.GetTimestamp());
                    return;
                }

                await Task.Delay(5, CancellationToken.None);
            }
        }) : Task.CompletedTask;

        var waitBefore = target.Server.RunQueueWaitSeconds();
        var rampStart = Stopwatch.GetTimestamp();
        using (var inFlight = new SemaphoreSlim(options.ConnectsInFlight))
        {
            var failures = 0;
            var all = Enumerable.Range(0, n).Select(async i =>
            {
                await inFlight.WaitAsync();
                try
                {
                    var started = Stopwatch.GetTimestamp();
                    connections[i] = await target.ConnectAsync();
                    var done = Stopwatch.GetTimestamp();
                    connectLatency.RecordTicks(done - started);
                    InterlockedMax(ref lastConnected, done);
                }
                catch (Exception exception) when (exception is not OutOfMemoryException)
                {
                    if (Interlocked.Increment(ref failures) <= 3)
                    {
                        Console.Error.WriteLine($"  c: {target.Name} connect failed: {exception.GetType().Name}: {exception.Message}");
                    }
                }
                finally
                {
                    inFlight.Release();
                }
            });
            await Task.WhenAll(all);
            if (failures > 0)
            {
                throw new InvalidOperationException($"{failures} of {n} connects to {target.Name} failed");
            }
        }

        var rampSeconds = (lastConnected - rampStart) / (double)Stopwatch.Frequency;
        double? rowsAfterLastConnectMs = null;
        if (target.IsGateway)
        {
            await poller.WaitAsync(TimeSpan.FromSeconds(30));
            rowsAfterLastConnectMs = (Interlocked.Read(ref rowsCommittedAt) - lastConnected) * 1000.0 / Stopwatch.Frequency;
        }

        var rampCpu = target.Server.CpuSeconds() - cpuBefore;
        var rampWait = target.Server.RunQueueWaitSeconds() - waitBefore;
        await Task.Delay(TimeSpan.FromSeconds(1));
        var rssAfter = target.Server.RssBytes();
        var heapAfter = await target.Server.ManagedHeapAfterGcAsync();
        var generatorRssAfter = ServerProcess.RssBytesOf(Environment.ProcessId);
        var ramp = new RampResult(
            target.Name,
            n,
            n / rampSeconds,
            connectLatency.Summary(),
            rowsAfterLastConnectMs,
            (rssAfter - rssBefore) / (double)n,
            (heapAfter - heapBefore) / (double)n,
            rampCpu,
            rampWait / rampSeconds * 100,
            target.Server.Threads(),
            (generatorRssAfter - generatorRssBefore) / (double)n);
        Console.Error.WriteLine(
            $"  c: {ramp.System,-7} {n} connects: {ramp.ConnectsPerSecond:0}/s, p99 {ramp.Connect.P99:0.0} ms, rows after last connect {ramp.RowsCommittedAfterLastConnectMs?.ToString("0", System.Globalization.CultureInfo.InvariantCulture) ?? "-"} ms, RSS/conn {ramp.RssBytesPerConnection / 1024:0.0} KiB, heap/conn {ramp.HeapBytesPerConnection / 1024:0.0} KiB, server threads {ramp.ServerThreads}");

        if (options.HoldSeconds > 0)
        {
            // For a look with dotnet-gcdump or dotnet-trace at a server holding its connections.
            Console.Error.WriteLine($"  c: holding {target.Name} (pid {target.Server.Pid}) for {options.HoldSeconds} s");
            await Task.Delay(TimeSpan.FromSeconds(options.HoldSeconds));
        }

        HeartbeatResult? beat = null;
        if (heartbeats)
        {
            beat = await HeartbeatAsync(options, target, connections);
        }

        await target.DisposeAsync();
        await DisposeAllAsync(connections.Where(c => c is not null).Select(c => c.DisposeAsync()));
        return new ConnectionResult(ramp, beat);
    }

    private static async Task<HeartbeatResult> HeartbeatAsync(BenchOptions options, HubTarget target, HubConnection[] connections)
    {
        // The ramp leaves tier-1 recompilation and the first full GCs of a bigger heap behind; wait until the
        // server is quiet before measuring it idle.
        await SettleAsync(target.Server);
        var commits0 = await target.CommitsAsync();
        var cpu0 = target.Server.CpuSeconds();
        var idleStart = Stopwatch.GetTimestamp();
        var idleCpu = new List<double>();
        for (var second = 0; second < options.IdleSeconds; second++)
        {
            var before = target.Server.CpuSeconds();
            await Task.Delay(TimeSpan.FromSeconds(1));
            idleCpu.Add((target.Server.CpuSeconds() - before) * 100);
        }

        Console.Error.WriteLine($"  b: {target.Name} idle cpu % second by second: {string.Join(" ", idleCpu.Select(c => c.ToString("0", System.Globalization.CultureInfo.InvariantCulture)))}");
        var commits1 = await target.CommitsAsync();
        var cpu1 = target.Server.CpuSeconds();
        var wait1 = target.Server.RunQueueWaitSeconds();
        var idleSeconds = (Stopwatch.GetTimestamp() - idleStart) / (double)Stopwatch.Frequency;

        var n = connections.Length;
        var rounds = Math.Max(1, (int)Math.Round(options.HeartbeatSeconds / options.HeartbeatIntervalSeconds));
        var total = n * rounds;
        var period = options.HeartbeatIntervalSeconds * Stopwatch.Frequency / n;
        var latency = new Latency();
        var errors = 0L;
        var answered = 0L;
        var start = Stopwatch.GetTimestamp() + Stopwatch.Frequency / 100;
        var sent = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var sender = new Thread(() =>
        {
            for (var i = 0; i < total; i++)
            {
                var intended = start + (long)(i * period);
                Schedule.WaitUntil(intended);
                connections[i % n].InvokeAsync<HeartbeatReply>(nameof(IGatewayHub.Heartbeat)).ContinueWith(
                    t =>
                    {
                        if (t.IsCompletedSuccessfully)
                        {
                            latency.RecordTicks(Stopwatch.GetTimestamp() - intended);
                        }
                        else
                        {
                            Interlocked.Increment(ref errors);
                        }

                        Interlocked.Increment(ref answered);
                    },
                    CancellationToken.None,
                    TaskContinuationOptions.ExecuteSynchronously,
                    TaskScheduler.Default);
            }

            sent.TrySetResult();
        })
        { IsBackground = true, Name = "heartbeat sender" };
        sender.Start();
        await sent.Task;
        var wait = Stopwatch.StartNew();
        while (Interlocked.Read(ref answered) < total && wait.Elapsed < TimeSpan.FromSeconds(10))
        {
            await Task.Delay(10);
        }

        var beatSeconds = (Stopwatch.GetTimestamp() - start) / (double)Stopwatch.Frequency;
        var commits2 = await target.CommitsAsync();
        var cpu2 = target.Server.CpuSeconds();
        var wait2 = target.Server.RunQueueWaitSeconds();
        var result = new HeartbeatResult(
            target.Name,
            n,
            (cpu1 - cpu0) / idleSeconds * 100,
            (commits1 - commits0) / idleSeconds,
            total / beatSeconds,
            (cpu2 - cpu1) / beatSeconds * 100,
            (wait2 - wait1) / beatSeconds * 100,
            (commits2 - commits1) / beatSeconds,
            latency.Summary(),
            Interlocked.Read(ref errors));
        Console.Error.WriteLine(
            $"  b: {result.System,-7} idle cpu {result.IdleCpuPercent:0.0}% commits {result.IdleCommitsPerSecond:0.00}/s; beating {result.HeartbeatsPerSecond:0}/s cpu {result.BeatingCpuPercent:0.0}% (run-queue wait {result.BeatingRunQueueWaitPercent:0.0}%) commits {result.BeatingCommitsPerSecond:0.00}/s p99 {result.Answer.P99:0.0} ms errors {result.Errors}");
        return result;
    }

    /// <summary>Scenario c against B0: raw ClientWebSocket connects, "hello" as the first message.</summary>
    public static async Task<RampResult> RunWebSocketAsync(BenchOptions options, ServerProcess server)
    {
        var n = options.Connections;
        var uri = new Uri($"ws://{server.Url.Authority}/ws");
        foreach (var _ in Enumerable.Range(0, options.ConnectsInFlight * WarmUpRounds))
        {
            using var warm = new ClientWebSocket();
            await warm.ConnectAsync(uri, CancellationToken.None);
            await warm.ReceiveAsync(new byte[16].AsMemory(), CancellationToken.None);
            await warm.CloseAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None);
        }

        await SettleAsync(server);
        var rssBefore = server.RssBytes();
        var heapBefore = await server.ManagedHeapAfterGcAsync();
        var cpuBefore = server.CpuSeconds();
        var waitBefore = server.RunQueueWaitSeconds();
        var sockets = new ClientWebSocket[n];
        var latency = new Latency();
        long lastConnected = 0;
        var rampStart = Stopwatch.GetTimestamp();
        using (var inFlight = new SemaphoreSlim(options.ConnectsInFlight))
        {
            await Task.WhenAll(Enumerable.Range(0, n).Select(async i =>
            {
                await inFlight.WaitAsync();
                try
                {
                    var started = Stopwatch.GetTimestamp();
                    var socket = new ClientWebSocket();
                    await socket.ConnectAsync(uri, CancellationToken.None);
                    var buffer = new byte[16];
                    await socket.ReceiveAsync(buffer.AsMemory(), CancellationToken.None);
                    var done = Stopwatch.GetTimestamp();
                    sockets[i] = socket;
                    latency.RecordTicks(done - started);
                    InterlockedMax(ref lastConnected, done);
                }
                finally
                {
                    inFlight.Release();
                }
            }));
        }

        var rampSeconds = (lastConnected - rampStart) / (double)Stopwatch.Frequency;
        var rampCpu = server.CpuSeconds() - cpuBefore;
        var rampWait = server.RunQueueWaitSeconds() - waitBefore;
        await Task.Delay(TimeSpan.FromSeconds(1));
        var rssAfter = server.RssBytes();
        var heapAfter = await server.ManagedHeapAfterGcAsync();
        var result = new RampResult("B0", n, n / rampSeconds, latency.Summary(), null, (rssAfter - rssBefore) / (double)n, (heapAfter - heapBefore) / (double)n, rampCpu, rampWait / rampSeconds * 100, server.Threads(), null);
        Console.Error.WriteLine(
            $"  c: B0      {n} connects: {result.ConnectsPerSecond:0}/s, p99 {result.Connect.P99:0.0} ms, RSS/conn {result.RssBytesPerConnection / 1024:0.0} KiB, heap/conn {result.HeapBytesPerConnection / 1024:0.0} KiB");
        await server.DisposeAsync();
        foreach (var socket in sockets)
        {
            socket?.Dispose();
        }

        return result;
    }

    /// <summary>Waits (at most 10 s) for a second in which the server uses under 10 % of a core.</summary>
    private static async Task SettleAsync(ServerProcess server)
    {
        for (var second = 0; second < 10; second++)
        {
            var before = server.CpuSeconds();
            await Task.Delay(TimeSpan.FromSeconds(1));
            if (server.CpuSeconds() - before < 0.1)
            {
                return;
            }
        }
    }

    private static async Task DisposeAllAsync(IEnumerable<ValueTask> disposals)
    {
        foreach (var chunk in disposals.Chunk(256))
        {
            await Task.WhenAll(chunk.Select(d => d.AsTask()));
        }
    }

    private static void InterlockedMax(ref long target, long value)
    {
        var current = Interlocked.Read(ref target);
        while (value > current)
        {
            var seen = Interlocked.CompareExchange(ref target, value, current);
            if (seen == current)
            {
                return;
            }

            current = seen;
        }
    }
}

internal sealed record ConnectionResult(RampResult Ramp, HeartbeatResult? Heartbeat);

/// <param name="RowsCommittedAfterLastConnectMs">Gateway: when the active session rows first numbered N, relative to the last connect (negative: before it).</param>
internal sealed record RampResult(
    string System,
    int Connections,
    double ConnectsPerSecond,
    LatencySummary Connect,
    double? RowsCommittedAfterLastConnectMs,
    double RssBytesPerConnection,
    double HeapBytesPerConnection,
    double RampCpuSeconds,
    double RampRunQueueWaitPercent,
    int ServerThreads,
    double? GeneratorRssBytesPerConnection);

internal sealed record HeartbeatResult(
    string System,
    int Connections,
    double IdleCpuPercent,
    double IdleCommitsPerSecond,
    double HeartbeatsPerSecond,
    double BeatingCpuPercent,
    double BeatingRunQueueWaitPercent,
    double BeatingCommitsPerSecond,
    LatencySummary Answer,
    long Errors);
