using Gateway.Client.Tests.Infrastructure;
using Gateway.Contracts;
using Gateway.Testing;
using Microsoft.Extensions.Logging;
using Xunit.Abstractions;

namespace Gateway.Client.Tests;

public sealed class ScratchTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Scratch()
    {
        using var server = new GatewayTestServer(new Dictionary<string, string?>
        {
            ["Sessions:StaleTimeoutSeconds"] = "2",
            ["Sessions:ReaperIntervalSeconds"] = "0.5",
            ["Sessions:HeartbeatIntervalSeconds"] = "1",
            ["Sessions:FlushIntervalSeconds"] = "0.2",
            ["Logging:LogLevel:Microsoft.AspNetCore.SignalR"] = "Debug",
            ["Logging:LogLevel:Microsoft.AspNetCore.Http.Connections"] = "Debug",
        });
        var lines = new System.Collections.Concurrent.ConcurrentQueue<string>();
        using var factory = LoggerFactory.Create(b => b.SetMinimumLevel(LogLevel.Debug).AddProvider(new ListProvider(lines)));
        await using var client = new GatewayClient(new GatewayClientOptions
        {
            Url = server.BaseAddress, AccessToken = GatewayTestServer.Token("erin", GatewayRoles.Agent),
            HeartbeatInterval = Timeout.InfiniteTimeSpan, Transports = Microsoft.AspNetCore.Http.Connections.HttpTransportType.WebSockets,
            LoggerFactory = factory,
        });
        var events = new ClientEvents(client);
        await client.StartWithTimeoutAsync();
        await Task.Delay(6000);
        output.WriteLine(string.Join(", ", events.Order) + " state " + client.State);
        foreach (var l in lines) output.WriteLine(l);
    }

    private sealed class ListProvider(System.Collections.Concurrent.ConcurrentQueue<string> lines) : ILoggerProvider
    {
        public ILogger CreateLogger(string categoryName) => new L(categoryName, lines);
        public void Dispose() { }
        private sealed class L(string c, System.Collections.Concurrent.ConcurrentQueue<string> lines) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
            public bool IsEnabled(LogLevel logLevel) => true;
            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
                => lines.Enqueue($"{DateTime.UtcNow:ss.fff} {logLevel} {c}: {formatter(state, exception)} {exception?.GetType().Name} {exception?.Message}");
        }
    }
}
