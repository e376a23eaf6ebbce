using System.Diagnostics;
using System.Globalization;

namespace Gateway.Bench;

/// <summary>
/// A benchmarked server in its own process, pinned to the server core when there is one: its CPU seconds
/// (utime + stime from /proc/PID/stat), RSS (/proc/PID/status) and, through the probe startup hook, its managed heap
/// after a full GC.
/// </summary>
internal sealed class ServerProcess : IAsyncDisposable
{
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(10) };
    private static readonly double ClockTicks = 100.0; // USER_HZ on Linux
    private readonly Process _process;
    private readonly string _probeRequest;
    private readonly string _probeResponse;
    private readonly StreamWriter _log;
    private long _probes;

    private ServerProcess(string name, Process process, string probeRequest, string probeResponse, StreamWriter log, Uri url)
    {
        Name = name;
        _process = process;
        _probeRequest = probeRequest;
        _probeResponse = probeResponse;
        _log = log;
        Url = url;
    }

    public string Name { get; }

    public Uri Url { get; }

    public int Pid => _process.Id;

    public static async Task<ServerProcess> StartAsync(
        BenchOptions options, string name, string dll, IEnumerable<string> args, IReadOnlyDictionary<string, string> environment, Uri url, string workDir)
    {
        Directory.CreateDirectory(workDir);
        var info = new ProcessStartInfo
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = Path.GetDirectoryName(dll)!,
        };
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

        info.ArgumentList.Add(dll);
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        var probeRequest = Path.Combine(workDir, "probe.request");
        var probeResponse = Path.Combine(workDir, "probe.response");
        info.Environment["DOTNET_STARTUP_HOOKS"] = options.ProbeDll;
        info.Environment["BENCH_PROBE_REQUEST"] = probeRequest;
        info.Environment["BENCH_PROBE_RESPONSE"] = probeResponse;
        info.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        foreach (var (key, value) in environment)
        {
            info.Environment[key] = value;
        }

        var log = new StreamWriter(Path.Combine(workDir, name + ".log")) { AutoFlush = false };
        var process = Process.Start(info) ?? throw new InvalidOperationException($"could not start {name}");
        process.OutputDataReceived += (_, e) => Write(log, e.Data);
        process.ErrorDataReceived += (_, e) => Write(log, e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var server = new ServerProcess(name, process, probeRequest, probeResponse, log, url);
        await server.WaitReadyAsync();
        return server;
    }

    private static void Write(StreamWriter log, string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (log)
        {
            log.WriteLine(line);
        }
    }

    private async Task WaitReadyAsync()
    {
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < TimeSpan.FromSeconds(60))
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"{Name} exited at start with code {_process.ExitCode}; see its log");
            }

            try
            {
                using var response = await Http.GetAsync(new Uri(Url, "/health/live"));
                if (response.IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }

            await Task.Delay(100);
        }

        throw new TimeoutException($"{Name} did not answer /health/live within 60 s");
    }

    /// <summary>User + system CPU seconds of the server so far.</summary>
    public double CpuSeconds() => CpuSecondsOf(_process.Id);

    public static double CpuSecondsOf(int pid)
    {
        var stat = File.ReadAllText($"/proc/{pid}/stat");
        // Fields after the command name (which may hold spaces) start after the last ')'.
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        var utime = long.Parse(fields[11], CultureInfo.InvariantCulture);
        var stime = long.Parse(fields[12], CultureInfo.InvariantCulture);
        return (utime + stime) / ClockTicks;
    }

    /// <summary>
    /// Seconds the server's threads spent runnable but waiting for a CPU (field 2 of /proc/PID/task/*/schedstat), summed
    /// over threads: other processes on the server's core (or the server's own threads queueing behind each other).
    /// Figures well above what an idle machine shows mean latencies are inflated by load outside the system under test.
    /// </summary>
    public double RunQueueWaitSeconds()
    {
        var total = 0L;
        try
        {
            foreach (var task in Directory.EnumerateDirectories($"/proc/{_process.Id}/task"))
            {
                try
                {
                    var fields = File.ReadAllText(Path.Combine(task, "schedstat")).Split(' ');
                    total += long.Parse(fields[1], CultureInfo.InvariantCulture);
                }
                catch (IOException)
                {
                    // The thread ended meanwhile.
                }
            }
        }
        catch (DirectoryNotFoundException)
        {
            return double.NaN;
        }

        return total / 1e9;
    }

    public long RssBytes() => RssBytesOf(_process.Id);

    /// <summary>Threads of the server now (/proc/PID/status).</summary>
    public int Threads()
    {
        foreach (var line in File.ReadLines($"/proc/{_process.Id}/status"))
        {
            if (line.StartsWith("Threads:", StringComparison.Ordinal))
            {
                return int.Parse(line.Split('\t', ' ').Last(p => p.Length > 0), CultureInfo.InvariantCulture);
            }
        }

        return 0;
    }

    public static long RssBytesOf(int pid)
    {
        foreach (var line in File.ReadLines($"/proc/{pid}/status"))
        {
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
            {
                return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) * 1024;
            }
        }

        return 0;
    }

    /// <summary>Methods the server's JIT has compiled so far, all tiers (written by the probe every 250 ms; 0 before).</summary>
    public long JitCompiledMethods()
    {
        try
        {
            return long.TryParse(File.ReadAllText(_probeResponse + ".jit").Trim(), CultureInfo.InvariantCulture, out var count) ? count : 0;
        }
        catch (IOException)
        {
            return 0;
        }
    }

    /// <summary>Managed heap after a full blocking GC in the server (bytes), through the probe startup hook.</summary>
    public async Task<long> ManagedHeapAfterGcAsync()
    {
        var number = ++_probes;
        await File.WriteAllTextAsync(_probeRequest, number.ToString(CultureInfo.InvariantCulture));
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < TimeSpan.FromSeconds(30))
        {
            await Task.Delay(50);
            if (!File.Exists(_probeResponse))
            {
                continue;
            }

            var parts = (await File.ReadAllTextAsync(_probeResponse)).Split(' ');
            if (parts.Length == 3 && long.Parse(parts[0], CultureInfo.InvariantCulture) == number)
            {
                return long.Parse(parts[1], CultureInfo.InvariantCulture);
            }
        }

        throw new TimeoutException($"{Name}: the probe did not answer (is DOTNET_STARTUP_HOOKS honoured?)");
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            // SIGTERM: a graceful ASP.NET Core stop (the gateway closes its sessions).
            using (var kill = Process.Start("kill", ["-TERM", _process.Id.ToString(CultureInfo.InvariantCulture)]))
            {
                await kill.WaitForExitAsync();
            }

            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(15));
            try
            {
                await _process.WaitForExitAsync(timeout.Token);
            }
            catch (OperationCanceledException)
            {
                _process.Kill(entireProcessTree: true);
            }
        }

        _process.Dispose();
        lock (_log)
        {
            _log.Dispose();
        }
    }
}
