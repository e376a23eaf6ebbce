using System.Diagnostics;

namespace Gateway.Bench;

/// <summary>
/// Warm-up until the server's JIT is done with the path under load. Tiered compilation first runs unoptimised code
/// and promotes hot methods in the background (instrumented, then optimised) once no new method has been compiled for
/// a while; under load that takes 5-15 s on one core, and the gateway's change path runs about three times slower
/// until it has (scenario d: ~850 µs per change before, ~280 after). Measuring before that would compare an
/// unoptimised gateway with an already optimised, much smaller baseline.
/// </summary>
internal static class WarmUp
{
    /// <summary>
    /// Runs <paramref name="drive"/> for one-second windows until the server compiled fewer than
    /// <paramref name="quietMethods"/> methods in each of the last two windows (at least <paramref name="minSeconds"/>),
    /// or <paramref name="maxSeconds"/> have passed. Returns a line for the log.
    /// </summary>
    public static async Task<string> UntilJitSettlesAsync(
        ServerProcess server, Func<TimeSpan, Task<long>> drive, int minSeconds, int maxSeconds, int quietMethods = 30)
    {
        var clock = Stopwatch.StartNew();
        var compiled = new List<long>();
        var work = new List<long>();
        var before = server.JitCompiledMethods();
        while (clock.Elapsed.TotalSeconds < maxSeconds)
        {
            work.Add(await drive(TimeSpan.FromSeconds(1)));
            // The probe writes the count every 250 ms: wait for a fresh one.
            await Task.Delay(300);
            var now = server.JitCompiledMethods();
            compiled.Add(now - before);
            before = now;
            if (clock.Elapsed.TotalSeconds >= minSeconds && compiled.Count >= 2 && compiled[^1] < quietMethods && compiled[^2] < quietMethods)
            {
                break;
            }
        }

        return $"warm-up {clock.Elapsed.TotalSeconds:0} s; per 1 s window: work {string.Join(" ", work)}, methods compiled {string.Join(" ", compiled)}";
    }
}
