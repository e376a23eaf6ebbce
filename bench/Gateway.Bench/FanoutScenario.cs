using System.Diagnostics;
using Gateway.Contracts;
using Microsoft.AspNetCore.SignalR.Client;

namespace Gateway.Bench;

/// <summary>
/// Scenario a: a persisted status change delivered to its subscribers. <c>Subscribers</c> connections, each
/// subscribed to one of <c>Groups</c> tasks (Gateway: scope task, type task.status; B1: the task's group); one driver
/// connection per task changes it running ↔ paused (with expectedStatus: a compare-and-set, so a lost or reordered
/// change would show as a 409) on an open-loop schedule at rising rates, Gateway and B1 interleaved step by step.
/// Hub invocations of one connection run one after the other, so the k-th task.status event of a task is the k-th
/// change sent for it: that is its sequence number, and the generator's table gives its intended send time.
/// </summary>
internal sealed class FanoutScenario
{
    private const int WarmUpRate = 100;

    public static async Task<List<FanoutStep>> RunAsync(BenchOptions options, IReadOnlyList<HubTarget> targets)
    {
        var maxWarmUpSeconds = options.Quick ? 5 : 30;
        var maxChanges = (options.Rates.Sum(r => (int)Math.Ceiling(r * options.StepSeconds))
            + options.RefineSteps * (int)Math.Ceiling(options.Rates.Max() * options.StepSeconds)
            + WarmUpRate * (maxWarmUpSeconds + 1)) / options.Groups + 16;
        var sides = new List<Side>();
        foreach (var target in targets)
        {
            Console.Error.WriteLine($"  a: connecting {options.Subscribers} subscribers to {target.Name}");
            sides.Add(await Side.StartAsync(options, target, maxChanges));
        }

        foreach (var side in sides)
        {
            // JIT and tiering (tier-1 code for the hot path takes seconds of load), connection buffers, SQLite's page
            // cache: the first changes are slow everywhere; not measured. Steps of 1 s until the server's JIT settles.
            var warmUp = await WarmUp.UntilJitSettlesAsync(
                side.Server,
                async window => (long)(await side.RunStepAsync(options, WarmUpRate, window.TotalSeconds)).DeliveriesPerSecond,
                minSeconds: options.Quick ? 2 : 5,
                maxSeconds: maxWarmUpSeconds,
                // The gateway's background work (heartbeat flushes, metrics, the reaper) keeps compiling a few dozen
                // methods a second at this rate once the change path is optimised.
                quietMethods: 60);
            Console.Error.WriteLine($"  a: {side.Name,-7} {WarmUpRate}/s {warmUp} (deliveries/s; not reported)");
            side.Saturated = false;
        }

        var results = new List<FanoutStep>();
        foreach (var rate in options.Rates)
        {
            foreach (var side in sides.Where(s => !s.Saturated))
            {
                results.Add(Logged(await side.RunStepAsync(options, rate, options.StepSeconds)));
            }
        }

        // The grid is coarse at the top (600, 800, 1600): ceilings of 790 and 610 changes/s both read as 600, and one
        // of 610 against 790 as 600 against 800 (0.75). Each refining step halves the gap between a side's highest
        // passing rate and its first failing one above it, sides alternating; a pause first lets a server that failed
        // the last step work off its backlog.
        for (var refine = 0; refine < options.RefineSteps; refine++)
        {
            foreach (var side in sides)
            {
                if (NextRefiningRate(results, side.Name) is not { } rate)
                {
                    continue;
                }

                await Task.Delay(TimeSpan.FromSeconds(options.Quick ? 1 : 2));
                side.Saturated = false;
                results.Add(Logged(await side.RunStepAsync(options, rate, options.StepSeconds)));
            }
        }

        foreach (var side in sides)
        {
            await side.DisposeAsync();
        }

        return results;
    }

    /// <summary>Midway (to 25 changes/s) between the highest passing rate and the lowest failing one above it, if that gap is wider than 50.</summary>
    private static int? NextRefiningRate(List<FanoutStep> steps, string system)
    {
        var mine = steps.Where(s => s.System == system).ToList();
        if (mine.Where(FanoutLimits.Met).MaxBy(s => s.ChangesPerSecond) is not { } passed
            || mine.Where(s => !FanoutLimits.Met(s) && s.ChangesPerSecond > passed.ChangesPerSecond).MinBy(s => s.ChangesPerSecond) is not { } failed
            || failed.ChangesPerSecond - passed.ChangesPerSecond <= 50)
        {
            return null;
        }

        return (passed.ChangesPerSecond + failed.ChangesPerSecond) / 2 / 25 * 25;
    }

    private static FanoutStep Logged(FanoutStep step)
    {
        Console.Error.WriteLine(
            $"  a: {step.System,-7} {step.ChangesPerSecond,5}/s changes -> {step.DeliveriesPerSecond,9:0} deliveries/s  p50 {step.Latency.P50,8:0.0} p99 {step.Latency.P99,8:0.0} p99.9 {step.Latency.P999,8:0.0} ms  lost {step.Lost}  errors {step.Errors}  server cpu {step.ServerCpuPercent,4:0}% (run-queue wait {step.ServerRunQueueWaitPercent,3:0}%)  generator cpu {step.GeneratorCpuPercent,4:0}%  {step.DeliveriesPerFrame:0.00} deliveries/frame  change answered p50 {step.ChangeAnswer.P50:0.0} p99 {step.ChangeAnswer.P99:0.0} ms{(step.ChangesPerCommit is { } perCommit ? $", {perCommit:0.0} changes/commit" : "")}");
        return step;
    }

    private sealed class Side : IAsyncDisposable
    {
        private readonly HubTarget _target;
        private readonly string[] _tasks;
        private readonly HubConnection[] _drivers;
        private readonly List<RawSubscriber> _subscribers;
        private readonly long[][] _intended;
        private readonly int[][] _stepOf;
        private readonly int[] _sent;
        private readonly int[] _received;
        private readonly StepState[] _steps = new StepState[256];
        private int _stepCount;
        private readonly CancellationTokenSource _stop = new();
        private Task _heartbeats = Task.CompletedTask;

        private Side(HubTarget target, string[] tasks, HubConnection[] drivers, int subscribers, int maxChanges)
        {
            _target = target;
            _tasks = tasks;
            _drivers = drivers;
            _subscribers = new List<RawSubscriber>(subscribers);
            _intended = tasks.Select(_ => new long[maxChanges]).ToArray();
            _stepOf = tasks.Select(_ => new int[maxChanges]).ToArray();
            _sent = new int[tasks.Length];
            _received = new int[subscribers];
        }

        public bool Saturated { get; set; }

        public string Name => _target.Name;

        public ServerProcess Server => _target.Server;

        public static async Task<Side> StartAsync(BenchOptions options, HubTarget target, int maxChanges)
        {
            var drivers = new HubConnection[options.Groups];
            for (var i = 0; i < drivers.Length; i++)
            {
                drivers[i] = await target.ConnectAsync();
            }

            var tasks = await target.PrepareTasksAsync(drivers[0], options.Groups);
            var side = new Side(target, tasks, drivers, options.Subscribers, maxChanges);
            using var inFlight = new SemaphoreSlim(options.ConnectsInFlight);
            var connects = Enumerable.Range(0, options.Subscribers).Select(async subscriber =>
            {
                await inFlight.WaitAsync();
                try
                {
                    var task = subscriber % tasks.Length;
                    // Raw subscribers (RawSubscriber): a full SignalR client per subscriber made the generator, not the
                    // servers, the limit from ~60,000 deliveries/s.
                    var connection = await RawSubscriber.ConnectAsync(target.Server.Url, target.Token, () => side.OnEvent(subscriber, task));
                    // A fixed subscription id per kind of subscription, as the dashboard and GatewayClient choose them:
                    // the gateway then serialises each event once for all its subscribers.
                    await connection.InvokeAsync(
                        nameof(IEventSubscriptionHub.Subscribe),
                        new SubscriptionRequest(SubscriptionScopes.Task, tasks[task], Types: [EventTypes.TaskStatus], SubscriptionId: "task-status"));
                    lock (side._subscribers)
                    {
                        side._subscribers.Add(connection);
                    }
                }
                finally
                {
                    inFlight.Release();
                }
            });
            await Task.WhenAll(connects);
            side._heartbeats = Task.Run(() => side.HeartbeatLoopAsync(side._stop.Token));
            return side;
        }

        /// <summary>
        /// Subscribers beat every 15 s like real clients (the gateway reaps a session silent for
        /// Sessions:StaleTimeoutSeconds); drivers need not, every change counts as liveness.
        /// </summary>
        private async Task HeartbeatLoopAsync(CancellationToken cancellationToken)
        {
            const int TicksPerInterval = 150; // 100 ms ticks: each subscriber once per 15 s
            RawSubscriber[] all;
            lock (_subscribers)
            {
                all = [.. _subscribers];
            }

            var perTick = Math.Max(1, (all.Length + TicksPerInterval - 1) / TicksPerInterval);
            var next = 0;
            using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(100));
            try
            {
                while (await timer.WaitForNextTickAsync(cancellationToken))
                {
                    for (var i = 0; i < perTick; i++)
                    {
                        _ = all[next++ % all.Length].SendAsync(nameof(IGatewayHub.Heartbeat))
                            .ContinueWith(_ => { }, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
                    }
                }
            }
            catch (OperationCanceledException)
            {
                // Disposed.
            }
        }

        /// <summary>A subscriber received an event of its task (the only subject it follows).</summary>
        private void OnEvent(int subscriber, int task)
        {
            var now = Stopwatch.GetTimestamp();
            var k = Interlocked.Increment(ref _received[subscriber]) - 1;
            if (k >= Volatile.Read(ref _sent[task]))
            {
                return;
            }

            var step = Volatile.Read(ref _steps[Volatile.Read(ref _stepOf[task][k])]);
            step.Latency.RecordTicks(now - Volatile.Read(ref _intended[task][k]));
            Interlocked.Increment(ref step.Delivered);
        }

        public async Task<FanoutStep> RunStepAsync(BenchOptions options, int rate, double seconds)
        {
            var step = new StepState();
            var stepIndex = _stepCount++;
            Volatile.Write(ref _steps[stepIndex], step);
            var changes = (int)Math.Round(rate * seconds);
            var subscribersPerTask = _received.Length / _tasks.Length;
            var expected = (long)changes * subscribersPerTask;
            var errors = 0L;
            var commitsBefore = await _target.CommitsAsync();
            var cpuBefore = _target.Server.CpuSeconds();
            var waitBefore = _target.Server.RunQueueWaitSeconds();
            var generatorBefore = Process.GetCurrentProcess().TotalProcessorTime;
            var framesBefore = RawSubscriber.Frames;
            var period = (double)Stopwatch.Frequency / rate;
            var start = Stopwatch.GetTimestamp() + Stopwatch.Frequency / 100;

            var sent = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var sender = new Thread(() =>
            {
                for (var i = 0; i < changes; i++)
                {
                    var intended = start + (long)(i * period);
                    Schedule.WaitUntil(intended);
                    var task = i % _tasks.Length;
                    var k = _sent[task];
                    Volatile.Write(ref _intended[task][k], intended);
                    Volatile.Write(ref _stepOf[task][k], stepIndex);
                    Volatile.Write(ref _sent[task], k + 1);
                    var (status, previous) = k % 2 == 0 ? ("paused", "running") : ("running", "paused");
                    var sentAt = Stopwatch.GetTimestamp();
                    _drivers[task].InvokeAsync<TaskInfo>(nameof(ITaskHub.ChangeTaskStatus), _tasks[task], new ChangeTaskStatusCommand(status, previous))
                        .ContinueWith(
                            t =>
                            {
                                if (t.IsCompletedSuccessfully)
                                {
                                    step.Answer.RecordTicks(Stopwatch.GetTimestamp() - sentAt);
                                }
                                else
                                {
                                    Interlocked.Increment(ref errors);
                                }
                            },
                            CancellationToken.None,
                            TaskContinuationOptions.ExecuteSynchronously,
                            TaskScheduler.Default);
                }

                sent.TrySetResult();
            })
            { IsBackground = true, Name = "open-loop sender" };
            sender.Start();
            await sent.Task;
            var sendEnded = Stopwatch.GetTimestamp();

            // Drain: wait for every delivery, at most a few seconds past the schedule.
            var drainLimit = TimeSpan.FromSeconds(options.Quick ? 2 : 4);
            var drain = Stopwatch.StartNew();
            while (Interlocked.Read(ref step.Delivered) < expected && drain.Elapsed < drainLimit)
            {
                await Task.Delay(10);
            }

            var wall = (Stopwatch.GetTimestamp() - start) / (double)Stopwatch.Frequency;
            var cpu = _target.Server.CpuSeconds() - cpuBefore;
            var waited = _target.Server.RunQueueWaitSeconds() - waitBefore;
            var generatorCpu = (Process.GetCurrentProcess().TotalProcessorTime - generatorBefore).TotalSeconds;
            var delivered = Interlocked.Read(ref step.Delivered);
            var frames = RawSubscriber.Frames - framesBefore;
            var commits = await _target.CommitsAsync() - commitsBefore;
            var latency = step.Latency.Summary();
            var lost = expected - delivered;
            if (lost > expected / 100 || latency.P99 > 2000 || Interlocked.Read(ref errors) > 0)
            {
                Saturated = true;
            }

            var scheduleSeconds = changes / (double)rate;
            return new FanoutStep(
                _target.Name,
                rate,
                changes,
                expected,
                delivered,
                lost,
                Interlocked.Read(ref errors),
                delivered / Math.Max(scheduleSeconds, (sendEnded - start) / (double)Stopwatch.Frequency),
                latency,
                cpu,
                delivered == 0 ? double.NaN : cpu / delivered * 1e6,
                cpu / wall * 100,
                waited / wall * 100,
                generatorCpu / wall * 100,
                step.Answer.Summary(),
                commits == 0 ? null : changes / (double)commits,
                frames == 0 ? double.NaN : delivered / (double)frames);
        }

        public async ValueTask DisposeAsync()
        {
            await _stop.CancelAsync();
            await _heartbeats;
            _stop.Dispose();
            await Task.WhenAll(_subscribers.Select(c => c.DisposeAsync().AsTask()).Concat(_drivers.Select(c => c.DisposeAsync().AsTask())));
        }
    }

    private sealed class StepState
    {
        public readonly Latency Latency = new();

        /// <summary>The driver's wait for the answer to its change, from the actual send (queueing in the server included).</summary>
        public readonly Latency Answer = new();
        public long Delivered;
    }
}

/// <summary>What scenario a counts as sustained: p99 under the limit, nothing lost, no change refused.</summary>
internal static class FanoutLimits
{
    public const double P99Ms = 50;

    public static bool Met(FanoutStep step) => step.Latency.P99 < P99Ms && step.Lost == 0 && step.Errors == 0;
}

/// <param name="CpuMicrosPerDelivery">Server CPU time per delivered event, in microseconds.</param>
/// <param name="DeliveriesPerFrame">Events received per WebSocket message (heartbeat answers count as frames too); above 1 the server's transport coalesced sends.</param>
internal sealed record FanoutStep(
    string System,
    int ChangesPerSecond,
    int Changes,
    long ExpectedDeliveries,
    long Delivered,
    long Lost,
    long Errors,
    double DeliveriesPerSecond,
    LatencySummary Latency,
    double ServerCpuSeconds,
    double CpuMicrosPerDelivery,
    double ServerCpuPercent,
    double ServerRunQueueWaitPercent,
    double GeneratorCpuPercent,
    LatencySummary ChangeAnswer,
    double? ChangesPerCommit,
    double DeliveriesPerFrame);

internal static class Schedule
{
    /// <summary>
    /// Waits for a Stopwatch timestamp: sleeps while more than 0.2 ms away, then yields. It used to yield for the last
    /// 2 ms, which at 400 changes/s (2.5 ms apart) kept the generator's core busy 80 % of the time doing nothing, and
    /// made its CPU figure useless as a sign of saturation. A sleep may overshoot by up to ~1 ms; the send is then
    /// late and its latency, measured from the intended time, says so.
    /// </summary>
    public static void WaitUntil(long timestamp)
    {
        while (true)
        {
            var remaining = timestamp - Stopwatch.GetTimestamp();
            if (remaining <= 0)
            {
                return;
            }

            if (remaining > Stopwatch.Frequency / 5000)
            {
                Thread.Sleep(1);
            }
            else
            {
                Thread.Yield();
            }
        }
    }
}
