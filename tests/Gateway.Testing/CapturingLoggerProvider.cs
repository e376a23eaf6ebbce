using System.Collections.Concurrent;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Gateway.Testing;

/// <summary>
/// Every log line of every category and level, with its structured values, exception and scopes. Its provider alias
/// for settings is <c>Capture</c> (<c>Logging:Capture:LogLevel:...</c>).
/// </summary>
[ProviderAlias("Capture")]
public sealed class CapturingLoggerProvider : ILoggerProvider
{
    private readonly ConcurrentQueue<string> _lines = new();

    public IReadOnlyList<string> Lines => [.. _lines];

    /// <summary>
    /// A test server logging every category at Trace into this capture, by rules of every kind (with and without a
    /// provider, broad and exact categories; nothing to the console, which would print every trace line of the run):
    /// what leak tests search.
    /// </summary>
    public GatewayTestServer StartServerLoggingEverything() => new(
        new Dictionary<string, string?>
        {
            ["Logging:LogLevel:Default"] = "Trace",
            ["Logging:LogLevel:Microsoft.AspNetCore"] = "Trace",
            ["Logging:LogLevel:Microsoft.EntityFrameworkCore"] = "Trace",
            ["Logging:Capture:LogLevel:Default"] = "Trace",
            ["Logging:Capture:LogLevel:Microsoft.AspNetCore"] = "Trace",
            ["Logging:Capture:LogLevel:Microsoft.AspNetCore.Hosting.Diagnostics"] = "Trace",
            ["Logging:Console:LogLevel:Default"] = "None",
        },
        configureServices: services => services.AddSingleton<ILoggerProvider>(this));

    public ILogger CreateLogger(string categoryName) => new Logger(categoryName, _lines);

    public void Dispose()
    {
    }

    private sealed class Logger(string category, ConcurrentQueue<string> lines) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull
        {
            lines.Enqueue($"{category} scope {Describe(state)}");
            return null;
        }

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            lines.Enqueue($"{category}[{eventId.Id}] {logLevel}: {formatter(state, exception)} | {Describe(state)} | {exception}");

        private static string Describe<TState>(TState state) =>
            state is IEnumerable<KeyValuePair<string, object?>> values
                ? string.Join(", ", values.Select(v => $"{v.Key}={v.Value}"))
                : state?.ToString() ?? string.Empty;
    }
}
