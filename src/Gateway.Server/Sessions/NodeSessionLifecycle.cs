
namespace Gateway.Server.Sessions;

/// <summary>
/// The sessions of this node across its own life: at start, close what an earlier run left active (a crash or a
/// kill gives no chance to); when stopping, tell clients and close every session still marked active here.
/// </summary>
/// <remarks>Registered after <see cref="SessionWriter"/>, so it starts after it and stops before it.</remarks>
internal sealed partial class NodeSessionLifecycle : IHostedService
{
    private readonly SessionWriter _writer;
    private readonly SessionManager _sessions;
    private readonly SessionEvents _events;
    private readonly IHostApplicationLifetime _lifetime;
    private readonly TimeProvider _time;
    private readonly ILogger<NodeSessionLifecycle> _logger;
    private readonly Cluster.NodeStanding _standing;
    private static readonly TimeSpan CloseRowsBudget = TimeSpan.FromSeconds(5);
    private readonly Lock _gate = new();
    private CancellationTokenRegistration _stopping;
    private Task? _stop;

    public NodeSessionLifecycle(
        SessionWriter writer,
        SessionManager sessions,
        SessionEvents events,
        IHostApplicationLifetime lifetime,
        TimeProvider time,
        Cluster.NodeStanding standing,
        ILogger<NodeSessionLifecycle> logger)
    {
        _standing = standing;
        _events = events;
        _writer = writer;
        _sessions = sessions;
        _lifetime = lifetime;
        _time = time;
        _logger = logger;
    }

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var closed = await CloseNodeSessionsAsync(CloseReasons.NodeRestarted, cancellationToken, announce: true);
        if (closed > 0)
        {
            LogLeftoversClosed(closed, _sessions.NodeId);
        }

        // Before Kestrel closes the connections: readiness fails, new connections are refused with 503 (a balancer
        // retries them on another node), and every client is told to reconnect, which takes it there.
        _stopping = _lifetime.ApplicationStopping.Register(() =>
        {
            _standing.Stopping();
            _sessions.BeginShutdownAsync().GetAwaiter().GetResult();
        });
    }

    /// <summary>
    /// Idempotent: a host can be stopped twice at once (the test host and RunAsync both do), and the second
    /// caller must wait for the first rather than run ahead and stop the writer under it.
    /// </summary>
    public Task StopAsync(CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            return _stop ??= StopOnceAsync(cancellationToken);
        }
    }

    private async Task StopOnceAsync(CancellationToken cancellationToken)
    {
        await _stopping.DisposeAsync();

        // The server stops before this service, and may have used the whole shutdown timeout waiting for stubborn
        // connections; the host's token is then already cancelled. Closing the rows is one short UPDATE, so it gets
        // its own small budget rather than being skipped (skipped rows would only be closed at the next start).
        using var budget = new CancellationTokenSource(CloseRowsBudget, _time);
        try
        {
            var closed = await CloseNodeSessionsAsync(CloseReasons.ServerShutdown, budget.Token);
            LogStopped(closed, _sessions.NodeId, cancellationToken.IsCancellationRequested);
        }
        catch (Exception exception) when (exception is OperationCanceledException or System.Data.Common.DbException or InvalidOperationException)
        {
            // A stop must go on whatever the database does: the rows are not lost, the next start of this node closes
            // them (and a close still queued when the budget ran out is written if the writer drains before exit).
            LogCloseAtStopFailed(exception, _sessions.NodeId, CloseRowsBudget.TotalSeconds);
        }
    }

    private async Task<int> CloseNodeSessionsAsync(string reason, CancellationToken cancellationToken, bool announce = false)
    {
        var closed = await _writer.ExecuteAsync(
            (transaction, token) => transaction.CloseNodeAsync(_sessions.NodeId, reason, _time.GetUtcNow().UtcDateTime, token),
            cancellationToken);
        if (announce)
        {
            foreach (var session in closed)
            {
                await _events.ClosedAsync(session);
            }
        }

        return closed.Count;
    }

    [LoggerMessage(EventId = 3301, Level = LogLevel.Warning, Message = "Closed {Count} sessions left active by an earlier run of node {NodeId}")]
    private partial void LogLeftoversClosed(int count, string nodeId);

    [LoggerMessage(EventId = 3303, Level = LogLevel.Warning,
        Message = "Node {NodeId} could not close its open sessions while stopping (budget {BudgetSeconds} s); its next start closes them")]
    private partial void LogCloseAtStopFailed(Exception exception, string nodeId, double budgetSeconds);

    [LoggerMessage(EventId = 3302, Level = LogLevel.Information,
        Message = "Node {NodeId} stopped; {Count} sessions still open were closed (shutdown timeout reached: {TimedOut})")]
    private partial void LogStopped(int count, string nodeId, bool timedOut);
}
