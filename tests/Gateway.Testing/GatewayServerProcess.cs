using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;

namespace Gateway.Testing;

/// <summary>
/// The gateway server in its own process on a free loopback port (Kestrel binds port 0 and logs the address).
/// </summary>
public sealed partial class GatewayServerProcess : IAsyncDisposable
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);
    private readonly Process _process;
    private readonly StringBuilder _output = new();
    private readonly TaskCompletionSource<Uri> _listening = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private GatewayServerProcess(Process process)
    {
        _process = process;
    }

    private int _disposed;

    public Uri BaseAddress { get; private set; } = null!;

    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    public bool HasExited => _process.HasExited;

    public int Id => _process.Id;

    public int ExitCode => _process.ExitCode;

    /// <summary>Starts the server; returns once it listens, or once it exited (see <see cref="HasExited"/>).</summary>
    public static async Task<GatewayServerProcess> StartAsync(
        string workingDirectory, IReadOnlyDictionary<string, string?>? environment = null, params string[] extraArgs)
    {
        var info = GatewayExecutable.StartInfo(workingDirectory, environment, ["--urls", "http://127.0.0.1:0", .. extraArgs]);
        var process = new Process { StartInfo = info, EnableRaisingEvents = true };
        var server = new GatewayServerProcess(process);
        process.OutputDataReceived += (_, e) => server.OnLine(e.Data);
        process.ErrorDataReceived += (_, e) => server.OnLine(e.Data);
        process.Exited += (_, _) => server._listening.TrySetCanceled();
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        try
        {
            server.BaseAddress = await server._listening.Task.WaitAsync(StartTimeout);
        }
        catch (TaskCanceledException)
        {
            await process.WaitForExitAsync();
        }

        return server;
    }

    /// <summary>Asks the server to stop gracefully, as a service manager or Ctrl+C does (SIGTERM).</summary>
    public Task TerminateAsync() => SignalAsync("TERM");

    /// <summary>Sends a signal by name (TERM, STOP, CONT, ...) to the process.</summary>
    public async Task SignalAsync(string signal)
    {
        using var kill = Process.Start("kill", ["-" + signal, _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        await kill.WaitForExitAsync();
    }

    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        using var cancellation = new CancellationTokenSource(timeout);
        await _process.WaitForExitAsync(cancellation.Token);
        // The parameterless overload also waits until the redirected output has been read to its end.
        _process.WaitForExit();
        return _process.ExitCode;
    }

    /// <summary>Kills the process (SIGKILL) if it still runs; a second call does nothing.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
    }

    private void OnLine(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_output)
        {
            _output.AppendLine(line);
        }

        var match = ListeningLine().Match(line);
        if (match.Success)
        {
            _listening.TrySetResult(new Uri(match.Groups[1].Value));
        }
    }

    [GeneratedRegex(@"Now listening on: (http://\S+)")]
    private static partial Regex ListeningLine();
}
