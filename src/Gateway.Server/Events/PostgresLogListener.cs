using Npgsql;

namespace Gateway.Server.Events;

/// <summary>
/// Listens on <see cref="PostgresEventLog.Channel"/> on a connection of its own and wakes the follower when another
/// node commits events or signals (their transactions notify at commit; a node's own notifications are ignored, it
/// publishes its commits itself). A lost connection is opened again, and the follower woken once, since notifications
/// sent meanwhile are gone; the follower's poll covers the time in between.
/// </summary>
internal sealed partial class PostgresLogListener
{
    /// <summary>A silent connection is pinged this often, so a dead one is noticed (a notification wait alone never ends).</summary>
    private static readonly TimeSpan PingInterval = TimeSpan.FromSeconds(10);

    private static readonly TimeSpan RetryDelay = TimeSpan.FromSeconds(1);

    private readonly NpgsqlDataSource _dataSource;
    private readonly string _nodeId;
    private readonly ILogger _logger;
    private volatile bool _listening;

    public PostgresLogListener(NpgsqlDataSource dataSource, string nodeId, ILogger logger)
    {
        _dataSource = dataSource;
        _nodeId = nodeId;
        _logger = logger;
    }

    /// <summary>LISTEN is in effect now.</summary>
    public bool Listening => _listening;

    public async Task RunAsync(Action wake, CancellationToken cancellationToken)
    {
        var failing = false;
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken);
                connection.Notification += (_, notification) =>
                {
                    if (notification.Payload != _nodeId)
                    {
                        wake();
                    }
                };
                await using (var listen = new NpgsqlCommand($"LISTEN {PostgresEventLog.Channel}", connection))
                {
                    await listen.ExecuteNonQueryAsync(cancellationToken);
                }

                _listening = true;
                if (failing)
                {
                    LogListeningAgain();
                    failing = false;
                }

                // What was committed while nobody listened.
                wake();
                while (true)
                {
                    if (!await connection.WaitAsync(PingInterval, cancellationToken))
                    {
                        await using var ping = new NpgsqlCommand("SELECT 1", connection);
                        await ping.ExecuteScalarAsync(cancellationToken);
                    }
                }
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception exception) when (exception is NpgsqlException or InvalidOperationException or IOException or TimeoutException)
            {
                _listening = false;
                if (!failing)
                {
                    failing = true;
                    LogListenFailed(exception);
                }

                try
                {
                    await Task.Delay(RetryDelay, cancellationToken);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
            finally
            {
                _listening = false;
            }
        }
    }

    [LoggerMessage(EventId = 4402, Level = LogLevel.Warning, Message = "Listening for other nodes' commits failed; polling the log until listening again")]
    private partial void LogListenFailed(Exception exception);

    [LoggerMessage(EventId = 4403, Level = LogLevel.Information, Message = "Listening for other nodes' commits again")]
    private partial void LogListeningAgain();
}
