using Gateway.Data;
using Gateway.Data.Entities;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Gateway.Server.Events;

/// <summary>
/// Hands every committed event of the shared log to this node's broadcaster, once and in id order, whichever node
/// committed it. This node's own commits go straight through when nothing of another node's came before them; the rest
/// is read from the log, which the follower watches with SQLite's <c>PRAGMA data_version</c> (it changes when another
/// connection commits; reading it costs no I/O) every <see cref="EventOptions.FollowIntervalMilliseconds"/>. The
/// same wake-up reads the signals other nodes sent (<see cref="Cluster.ClusterSignals"/>). On PostgreSQL the wake-up is
/// a notification from the committing node (<see cref="PostgresLogListener"/>), and the log is read besides every
/// <see cref="EventOptions.PostgresPollIntervalMilliseconds"/> in case one was lost.
/// </summary>
/// <remarks>
/// The log's contract, which this relies on: ids strictly increase in commit order across all writers, so an event
/// read after position X can never be followed by a commit below X. SQLite gives it: ids are taken under its single
/// write lock and commits are serialised by the same lock (a rolled-back append gives its id back). PostgreSQL gives it
/// through the log's advisory lock (<see cref="PostgresEventLog"/>).
/// </remarks>
internal sealed partial class EventLogFollower : BackgroundService
{
    private readonly EventBroadcaster _broadcaster;
    private readonly IEventLog _log;
    private readonly Database.DatabaseLocation _database;
    private readonly Database.DatabaseConnections _connections;
    private readonly string _nodeId;
    private readonly EventOptions _options;
    private readonly ILogger<EventLogFollower> _logger;
    private readonly Cluster.ClusterSignals _signals;
    private readonly Lock _gate = new();
    private readonly SemaphoreSlim _reading = new(1, 1);
    private readonly SemaphoreSlim _wake = new(0, 1);
    private readonly TaskCompletionSource _initialized = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long _published;
    private bool _failing;

    public EventLogFollower(
        EventBroadcaster broadcaster,
        IEventLog log,
        Database.DatabaseLocation database,
        Database.DatabaseConnections connections,
        IOptions<EventOptions> options,
        IOptions<Sessions.NodeOptions> node,
        Cluster.ClusterSignals signals,
        ILogger<EventLogFollower> logger)
    {
        _connections = connections;
        _nodeId = node.Value.ResolvedId;
        _signals = signals;
        _broadcaster = broadcaster;
        _log = log;
        _database = database;
        _options = options.Value;
        _logger = logger;
    }

    /// <summary>The newest id handed to the broadcaster.</summary>
    public long Published
    {
        get
        {
            lock (_gate)
            {
                return _published;
            }
        }
    }

    /// <summary>The log's identity (<c>gateway_log.epoch</c>): a resume position with another epoch is from another database.</summary>
    public string? Epoch { get; private set; }

    /// <summary>Starts at the log's head: what is logged before this node started is replay's, not live.</summary>
    public void Initialize(long head, string? epoch)
    {
        Epoch = epoch;
        lock (_gate)
        {
            _published = Math.Max(_published, head);
            _broadcaster.Initialize(_published);
        }

        _initialized.TrySetResult();
    }

    /// <summary>
    /// This node's commit, its events in id order. Published now when they follow the last published id; otherwise
    /// another node's events come first, and the follower reads them all from the log.
    /// </summary>
    public void Committed(IReadOnlyList<EventLogEntry> events)
    {
        if (events.Count == 0)
        {
            return;
        }

        lock (_gate)
        {
            if (events[^1].Id <= _published)
            {
                // The follower read this commit first.
                return;
            }

            if (events[0].Id == _published + 1)
            {
                _broadcaster.Publish(events);
                _published = events[^1].Id;
                return;
            }
        }

        Wake();
    }

    /// <summary>Reads and publishes what the log holds past the last published id (a resume on this node may need it now).</summary>
    public async Task CatchUpAsync(CancellationToken cancellationToken)
    {
        await _reading.WaitAsync(cancellationToken);
        try
        {
            while (true)
            {
                var page = await _log.ReadAfterAsync(new EventLogRead(Published, _options.ReplayPageBytes), cancellationToken);
                if (page.Count == 0)
                {
                    return;
                }

                lock (_gate)
                {
                    var fresh = page.Where(e => e.Id > _published).ToList();
                    if (fresh.Count > 0)
                    {
                        _broadcaster.Publish(fresh);
                        _published = fresh[^1].Id;
                    }
                }
            }
        }
        finally
        {
            _reading.Release();
        }
    }

    /// <summary>On PostgreSQL: whether the listener's LISTEN is in effect (false on SQLite, which needs none).</summary>
    public bool Listening => _listener?.Listening ?? false;

    private PostgresLogListener? _listener;

    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        _connections.IsPostgres ? FollowPostgresAsync(stoppingToken) : FollowSqliteAsync(stoppingToken);

    private async Task FollowPostgresAsync(CancellationToken stoppingToken)
    {
        var interval = TimeSpan.FromMilliseconds(_options.PostgresPollIntervalMilliseconds);
        _listener = new PostgresLogListener(_connections.DataSource, _nodeId, _logger);
        Task? listening = null;
        try
        {
            await _initialized.Task.WaitAsync(stoppingToken);
            listening = _listener.RunAsync(Wake, stoppingToken);
            while (!stoppingToken.IsCancellationRequested)
            {
                await _wake.WaitAsync(interval, stoppingToken);
                try
                {
                    await CatchUpAsync(stoppingToken);
                    await _signals.CatchUpAsync(stoppingToken);
                    _failing = false;
                }
                catch (Exception exception) when (exception is System.Data.Common.DbException or InvalidOperationException or TimeoutException)
                {
                    // PostgreSQL is unreachable: the next wake-up or poll tries again. Readiness reports the database.
                    if (!_failing)
                    {
                        _failing = true;
                        LogFollowFailed(exception);
                    }
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        finally
        {
            if (listening is not null)
            {
                await listening;
            }
        }
    }

    private async Task FollowSqliteAsync(CancellationToken stoppingToken)
    {
        var interval = TimeSpan.FromMilliseconds(_options.FollowIntervalMilliseconds);
        SqliteConnection? watch = null;
        long? version = null;
        try
        {
            // Until the change writer has read the head, everything logged would look new.
            await _initialized.Task.WaitAsync(stoppingToken);
            while (!stoppingToken.IsCancellationRequested)
            {
                var woken = await _wake.WaitAsync(interval, stoppingToken);
                try
                {
                    watch ??= await OpenWatchAsync(stoppingToken);
                    var now = await DataVersionAsync(watch, stoppingToken);
                    if (woken || now != version)
                    {
                        version = now;
                        await CatchUpAsync(stoppingToken);
                        await _signals.CatchUpAsync(stoppingToken);
                    }

                    _failing = false;
                }
                catch (Exception exception) when (exception is SqliteException or InvalidOperationException)
                {
                    // The database is unavailable (a full disk, a lock, a lost file): try again on the next tick,
                    // on a fresh connection. Readiness reports the database itself.
                    if (!_failing)
                    {
                        _failing = true;
                        LogFollowFailed(exception);
                    }

                    watch?.Dispose();
                    watch = null;
                    version = null;
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        finally
        {
            watch?.Dispose();
        }
    }

    private void Wake()
    {
        try
        {
            _wake.Release();
        }
        catch (SemaphoreFullException)
        {
            // Already woken.
        }
    }

    private async Task<SqliteConnection> OpenWatchAsync(CancellationToken cancellationToken)
    {
        var connection = new SqliteConnection(_database.ConnectionString);
        await connection.OpenAsync(cancellationToken);
        return connection;
    }

    private static async Task<long> DataVersionAsync(SqliteConnection connection, CancellationToken cancellationToken)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA data_version";
        return (long)(await command.ExecuteScalarAsync(cancellationToken))!;
    }

    public override void Dispose()
    {
        _reading.Dispose();
        _wake.Dispose();
        base.Dispose();
    }

    [LoggerMessage(EventId = 4401, Level = LogLevel.Warning, Message = "Reading the event log for other nodes' events failed; trying again")]
    private partial void LogFollowFailed(Exception exception);
}
