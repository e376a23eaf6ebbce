using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Gateway.Server.Events;

/// <summary>
/// Deletes events older than the retention, in chunks of the oldest ids, through the change writer (so never beside
/// it), and records the retention floor (<c>gateway_log.retention_floor</c>) with each chunk.
/// </summary>
internal sealed partial class EventRetention : BackgroundService
{
    private const int Chunk = 5000;

    private readonly ChangeWriter _writer;
    private readonly IEventLog _log;
    private readonly EventOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger<EventRetention> _logger;

    public EventRetention(ChangeWriter writer, IEventLog log, IOptions<EventOptions> options, TimeProvider time, ILogger<EventRetention> logger)
    {
        _log = log;
        _writer = writer;
        _options = options.Value;
        _time = time;
        _logger = logger;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromMinutes(_options.PruneIntervalMinutes), _time);
        try
        {
            do
            {
                try
                {
                    await PruneAsync(stoppingToken);
                }
                catch (Exception exception) when (exception is InvalidOperationException or System.Data.Common.DbException)
                {
                    LogPruneFailed(exception);
                }
            }
            while (await timer.WaitForNextTickAsync(stoppingToken));
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    internal async Task<int> PruneAsync(CancellationToken cancellationToken)
    {
        var cutoff = _time.GetUtcNow().UtcDateTime - TimeSpan.FromHours(_options.RetentionHours);
        var total = 0;
        int deleted;
        do
        {
            // The oldest ids up to the first event still within retention, the floor raised with them (IEventLog).
            deleted = await _writer.ExecuteAsync((scope, token) => _log.PruneAsync(scope.Db, cutoff, Chunk, token), cancellationToken);
            total += deleted;
        }
        while (deleted == Chunk);

        if (total > 0)
        {
            LogPruned(total);
        }

        return total;
    }

    [LoggerMessage(EventId = 4301, Level = LogLevel.Information, Message = "Pruned {Count} events past retention")]
    private partial void LogPruned(int count);

    [LoggerMessage(EventId = 4302, Level = LogLevel.Error, Message = "Pruning the event log failed; retrying at the next interval")]
    private partial void LogPruneFailed(Exception exception);
}
