namespace Gateway.Testing;

/// <summary>
/// Gives a test process more thread-pool threads from the start. A suite runs dozens of gateways in one process, and
/// its harness blocks pool threads for seconds (WebApplicationFactory starts and stops hosts synchronously, tests stop
/// servers through <c>Task.Run(server.Dispose)</c>, SQLite waits inside the call on a write lock a test holds). On 2
/// cores the pool starts with 2 threads and adds about one per half second while starved. Measured with a probe that
/// queues a work item every 50 ms through the whole server suite: lags up to 1.35 s with the default minimum, at most
/// 94 ms with 32 threads (and the suite 3 s faster). The likeliest cause of a CI failure on a loaded machine where a
/// session writer did not get to a queued close for 5 s. A production process runs one gateway and blocks no pool
/// thread for long.
/// </summary>
internal static class TestThreadPool
{
    private const int MinimumThreads = 32;

    /// <summary>Called before the first test server starts; idempotent.</summary>
    internal static void RaiseMinimum()
    {
        ThreadPool.GetMinThreads(out var workers, out var completionPorts);
        ThreadPool.SetMinThreads(Math.Max(workers, MinimumThreads), Math.Max(completionPorts, MinimumThreads));
    }
}
