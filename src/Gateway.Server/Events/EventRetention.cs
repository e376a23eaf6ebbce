using Gateway.Data.Conversion;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Gateway.Server.Events;

/// <summary>Deletes events older than the retention, in chunks, through the change writer (so never beside it).</summary>
internal sealed partial class EventRetention : BackgroundService
{
    private const int Chunk = 5000;

    private readonly ChangeWriter _writer;
    private readonly EventOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger<EventRetention> _logger;

    public EventRetention(ChangeWriter writer, IOptions<EventOptions> options, TimeProvider time, ILogger<EventRetention> logger)
    {
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
                catch (Exception exception) when (exception is InvalidOperationException or Microsoft.Data.Sqlite.SqliteException)
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
        var cutoff = UtcDateTimeConverter.Format(_time.GetUtcNow().UtcDateTime - TimeSpan.FromHours(_options.RetentionHours));
        var total = 0;
        int deleted;
        do
        {
            deleted = await _writer.ExecuteAsync(
                (scope, token) => scope.Db.Database.ExecuteSqlAsync(
                    $"DELETE FROM gateway_events WHERE id IN (SELECT id FROM gateway_events WHERE created_at < {cutoff} ORDER BY id LIMIT {Chunk})",
                    token),
                cancellationToken);
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
