using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Gateway.Testing;

namespace Gateway.Dashboard.Tests.Infrastructure;

/// <summary>
/// One headless Chromium, driven by <c>browser/driver.mjs</c> (playwright-core) in a node process: a command is a JSON
/// line on its stdin, the answer a JSON line on its stdout. Every command has a timeout here as well as in the driver,
/// so a stuck browser fails the test instead of hanging it. Disposing closes stdin, which closes the browser.
/// </summary>
public sealed class BrowserDriver : IAsyncDisposable
{
    /// <summary>Longer than any of the driver's own timeouts, so the driver's (more precise) error normally wins.</summary>
    private static readonly TimeSpan CommandTimeout = TimeSpan.FromSeconds(45);

    private readonly Process _process;
    private readonly ConcurrentDictionary<long, TaskCompletionSource<JsonNode?>> _waiting = new();
    private readonly StringBuilder _stderr = new();
    private readonly Task _reading;
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private long _nextId;

    private BrowserDriver(Process process)
    {
        _process = process;
        _process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                lock (_stderr)
                {
                    _stderr.AppendLine(e.Data);
                }
            }
        };
        _process.BeginErrorReadLine();
        _reading = Task.Run(ReadAsync);
    }

    public static string DriverDirectory => Path.Combine(RepositoryPaths.Root, "tests", "Gateway.Dashboard.Tests", "browser");

    /// <summary>Starts the driver and launches Chromium.</summary>
    public static async Task<BrowserDriver> LaunchAsync()
    {
        var start = new ProcessStartInfo("node", "driver.mjs")
        {
            WorkingDirectory = DriverDirectory,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            StandardOutputEncoding = Encoding.UTF8,
        };
        start.Environment["PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD"] = "1";
        var process = Process.Start(start) ?? throw new InvalidOperationException("node did not start");
        var driver = new BrowserDriver(process);
        try
        {
            await driver.SendAsync("launch", new JsonObject());
        }
        catch
        {
            await driver.DisposeAsync();
            throw;
        }

        return driver;
    }

    /// <summary>What the driver and Chromium wrote to stderr, for failure messages.</summary>
    public string Stderr
    {
        get
        {
            lock (_stderr)
            {
                return _stderr.ToString();
            }
        }
    }

    public async Task<JsonNode?> SendAsync(string command, JsonObject arguments)
    {
        var id = Interlocked.Increment(ref _nextId);
        var answer = new TaskCompletionSource<JsonNode?>(TaskCreationOptions.RunContinuationsAsynchronously);
        _waiting[id] = answer;
        arguments["id"] = id;
        arguments["cmd"] = command;
        await _writeLock.WaitAsync();
        try
        {
            await _process.StandardInput.WriteLineAsync(arguments.ToJsonString());
            await _process.StandardInput.FlushAsync();
        }
        finally
        {
            _writeLock.Release();
        }

        try
        {
            return await answer.Task.WaitAsync(CommandTimeout);
        }
        catch (TimeoutException)
        {
            throw new BrowserException($"{command}: no answer from the browser driver in {CommandTimeout.TotalSeconds} s. Driver stderr:\n{Stderr}");
        }
        finally
        {
            _waiting.TryRemove(id, out _);
        }
    }

    private async Task ReadAsync()
    {
        while (await _process.StandardOutput.ReadLineAsync() is { } line)
        {
            JsonNode? message;
            try
            {
                message = JsonNode.Parse(line);
            }
            catch (JsonException)
            {
                continue; // not an answer (a library printing to stdout)
            }

            if (message?["id"]?.GetValue<long>() is not { } id || !_waiting.TryGetValue(id, out var answer))
            {
                continue;
            }

            if (message["ok"]?.GetValue<bool>() == true)
            {
                answer.TrySetResult(message["result"]);
            }
            else
            {
                answer.TrySetException(new BrowserException(message["error"]?.GetValue<string>() ?? "unknown driver error"));
            }
        }

        foreach (var answer in _waiting.Values)
        {
            answer.TrySetException(new BrowserException($"the browser driver exited. Driver stderr:\n{Stderr}"));
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            _process.StandardInput.Close();
            using var exit = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            await _process.WaitForExitAsync(exit.Token);
        }
        catch (OperationCanceledException)
        {
            _process.Kill(entireProcessTree: true);
        }

        await _reading.WaitAsync(TimeSpan.FromSeconds(5)).ContinueWith(_ => { }, TaskScheduler.Default);
        _process.Dispose();
        _writeLock.Dispose();
    }
}

public sealed class BrowserException(string message) : Exception(message);
