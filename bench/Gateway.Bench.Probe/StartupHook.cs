using System.Globalization;

#pragma warning disable CA1050 // The runtime looks the startup hook up by this exact name, outside any namespace.

/// <summary>
/// Loaded by <c>DOTNET_STARTUP_HOOKS</c> into a benchmarked server. When the file named by
/// <c>BENCH_PROBE_REQUEST</c> holds a number it has not answered yet, it runs a full blocking GC and writes
/// "number heapBytes committedBytes" to <c>BENCH_PROBE_RESPONSE</c>: the managed heap after collection, measured the
/// same way in Gateway and in the baselines, without a diagnostics tool. Every 250 ms it also writes the number of
/// methods the JIT has compiled (all tiers) to <c>BENCH_PROBE_RESPONSE</c>.jit: the generator warms a server up until
/// that number stops growing, i.e. until tiered compilation has finished with the path under load.
/// </summary>
internal static class StartupHook
{
    public static void Initialize()
    {
        var request = Environment.GetEnvironmentVariable("BENCH_PROBE_REQUEST");
        var response = Environment.GetEnvironmentVariable("BENCH_PROBE_RESPONSE");
        if (string.IsNullOrEmpty(request) || string.IsNullOrEmpty(response))
        {
            return;
        }

        var thread = new Thread(() => Watch(request, response)) { IsBackground = true, Name = "bench-probe" };
        thread.Start();
    }

    private static void Watch(string request, string response)
    {
        var answered = 0L;
        var jitFile = response + ".jit";
        var lastJitWrite = 0L;
        while (true)
        {
            Thread.Sleep(50);
            if (Environment.TickCount64 - lastJitWrite >= 250)
            {
                WriteAtomically(jitFile, System.Runtime.JitInfo.GetCompiledMethodCount().ToString(CultureInfo.InvariantCulture));
                lastJitWrite = Environment.TickCount64;
            }

            long asked;
            try
            {
                if (!File.Exists(request) || !long.TryParse(File.ReadAllText(request).Trim(), CultureInfo.InvariantCulture, out asked) || asked <= answered)
                {
                    continue;
                }
            }
            catch (IOException)
            {
                continue;
            }

            GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
            GC.WaitForPendingFinalizers();
            GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
            var info = GC.GetGCMemoryInfo(GCKind.Any);
            var line = string.Create(CultureInfo.InvariantCulture, $"{asked} {GC.GetTotalMemory(false)} {info.TotalCommittedBytes}");
            WriteAtomically(response, line);
            answered = asked;
        }
    }

    private static void WriteAtomically(string path, string text)
    {
        var temporary = path + ".tmp";
        File.WriteAllText(temporary, text);
        File.Move(temporary, path, overwrite: true);
    }
}
