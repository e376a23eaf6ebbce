using Gateway.Contracts;
using Microsoft.Extensions.Options;

namespace Gateway.Server.Sessions;

/// <summary>
/// Background upkeep of the sessions table: the stale-session reaper (every node reaps every node's stale rows,
/// so a crashed node's sessions close too) and the pruning of inactive rows past retention. Both run through the
/// session writer, so they never contend with it for SQLite's lock.
/// </summary>
internal sealed partial class SessionMaintenance : BackgroundService
{
    private const int PruneChunk = 1000;

    private readonly SessionWriter _writer;
    private readonly Cluster.ISignalStore _signals;
    private readonly SessionManager _sessions;
    private readonly SessionEvents _events;
    private readonly SessionLifetimeOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger<SessionMaintenance> _logger;

    public SessionMaintenance(
        SessionWriter writer, Cluster.ISignalStore signals, SessionManager sessions, SessionEvents events, IOptions<SessionLifetimeOptions> options, TimeProvider time, ILogger<SessionMaintenance> logger)
    {
        _writer = writer;
        _signals = signals;
        _sessions = sessions;
        _events = events;
        _options = options.Value;
        _time = time;
        _logger = logger;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var reap = new PeriodicTimer(_options.ReaperInterval, _time);
        var nextPrune = _time.GetUtcNow();
        try
        {
            do
            {
                try
                {
                    await ReapAsync(stoppingToken);
                    if (_time.GetUtcNow() >= nextPrune)
                    {
                        await PruneAsync(stoppingToken);
                        nextPrune = _time.GetUtcNow() + _options.PruneInterval;
                    }
                }
                catch (Exception exception) when (exception is System.Data.Common.DbException or InvalidOperationException)
                {
                    LogMaintenanceFailed(exception);
                }
            }
            while (await reap.WaitForNextTickAsync(stoppingToken));
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>Closes sessions silent for longer than the stale timeout; returns how many.</summary>
    internal async Task<int> ReapAsync(CancellationToken cancellationToken)
    {
        var now = _time.GetUtcNow().UtcDateTime;
        var cutoff = now - _options.StaleTimeout;
        // A heartbeat received here but not yet flushed keeps the session alive.
        var reaped = await _writer.ExecuteAsync(
            (transaction, token) => transaction.ReapAsync(
                cutoff, session => _writer.PendingHeartbeat(session) is { } pending && pending >= cutoff, now, token),
            cancellationToken);

        foreach (var session in reaped)
        {
            LogReaped(session.Id, session.LastHeartbeat);
            if (!_sessions.IsLive(session.Id))
            {
                // Sessions live here announce their close when their connection ends.
                await _events.ClosedAsync(session);
            }

            _sessions.AbortReaped(session.Id);
        }

        return reaped.Count;
    }

    /// <summary>Deletes inactive sessions closed longer ago than the retention; returns how many.</summary>
    internal async Task<int> PruneAsync(CancellationToken cancellationToken)
    {
        var cutoff = _time.GetUtcNow().UtcDateTime - _options.Retention;
        var total = 0;
        int deleted;
        do
        {
            deleted = await _writer.ExecuteAsync((transaction, token) => transaction.PruneAsync(cutoff, PruneChunk, token), cancellationToken);
            total += deleted;
        }
        while (deleted == PruneChunk);

        var signalsCutoff = _time.GetUtcNow().UtcDateTime - Cluster.ClusterSignals.Retention;
        await _writer.ExecuteAsync((transaction, token) => _signals.PruneAsync(transaction, signalsCutoff, token), cancellationToken);

        if (total > 0)
        {
            LogPruned(total);
        }

        return total;
    }

    [LoggerMessage(EventId = 3201, Level = LogLevel.Information, Message = "Session {SessionId} reaped: last heartbeat {LastHeartbeat:o}")]
    private partial void LogReaped(string sessionId, DateTime lastHeartbeat);

    [LoggerMessage(EventId = 3202, Level = LogLevel.Information, Message = "Pruned {Count} inactive sessions past retention")]
    private partial void LogPruned(int count);

    [LoggerMessage(EventId = 3203, Level = LogLevel.Error, Message = "Session maintenance failed; retrying at the next interval")]
    private partial void LogMaintenanceFailed(Exception exception);
}
