using System.Collections.Concurrent;
using System.Threading.Channels;
using System.Data.Common;
using Gateway.Server.Database;
using Microsoft.Extensions.Options;

namespace Gateway.Server.Sessions;

/// <summary>
/// The one writer of the sessions table on this node. Opens and closes are queued and committed in groups (one
/// transaction for everything queued when the writer gets to it); heartbeats are coalesced in memory, the newest
/// per session, and written in the same way once per flush interval. SQLite has one writer at a time: a
/// transaction per connection event or heartbeat would make it the ceiling.
/// </summary>
/// <remarks>
/// Ordering: operations on one session are applied in the order they were queued. An open is awaited before the
/// client is told its session id, so a close can never overtake its open. On stop, everything queued and every
/// pending heartbeat is written before the writer ends.
/// </remarks>
internal sealed partial class SessionWriter : BackgroundService
{
    private const int MaxBatch = 1024;

    private readonly Channel<Operation> _queue = Channel.CreateUnbounded<Operation>(new UnboundedChannelOptions { SingleReader = true });
    private readonly ISessionStore _store;
    private readonly SessionLifetimeOptions _options;
    private readonly TimeProvider _time;
    private readonly RealtimeStats _stats;
    private readonly Metrics.GatewayMetrics _metrics;
    private readonly ILogger<SessionWriter> _logger;
    private ConcurrentDictionary<string, DateTime> _heartbeats = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, OwedClose> _owedCloses = new(StringComparer.Ordinal);

    private readonly StorageHealth _storage;
    private readonly NodeOptions _node;

    public SessionWriter(
        ISessionStore store,
        IOptions<SessionLifetimeOptions> options,
        TimeProvider time,
        RealtimeStats stats,
        Metrics.GatewayMetrics metrics,
        StorageHealth storage,
        IOptions<NodeOptions> node,
        ILogger<SessionWriter> logger)
    {
        _node = node.Value;
        _storage = storage;
        _metrics = metrics;
        _store = store;
        _options = options.Value;
        _time = time;
        _stats = stats;
        _logger = logger;
    }

    /// <summary>
    /// Inserts a session; completes once committed. False: not inserted, as the user already has
    /// <see cref="SessionRow.MaxUserSessions"/> active sessions on the live nodes.
    /// </summary>
    public async Task<bool> OpenAsync(SessionRow row, CancellationToken cancellationToken)
    {
        var open = new Operation.Open(row, _time.GetUtcNow().UtcDateTime - _node.LostAfter);
        await Enqueue(open, cancellationToken);
        return !open.Refused;
    }

    /// <summary>Marks a session inactive with a reason in its metadata; completes once committed.</summary>
    /// <param name="message">Free text kept as <c>closeMessage</c> (an admin's reason); null for none.</param>
    public Task CloseAsync(string sessionId, string reason, CancellationToken cancellationToken, string? message = null)
    {
        _heartbeats.TryRemove(sessionId, out _);
        return Enqueue(new Operation.Close(sessionId, reason, message, _time.GetUtcNow().UtcDateTime), cancellationToken);
    }

    /// <summary>
    /// A close whose write failed because the database was away: written with the next flush that gets through, then
    /// announced (unless the reaper closed the row first). Without it the row would stay active until the reaper finds
    /// it stale, counting toward its user's session limit meanwhile, while after an outage every client reconnects.
    /// Lost if this process stops first; the reaper then closes the row.
    /// </summary>
    public void CloseOnceBack(string sessionId, string reason, DateTime at, Func<Task> announce)
    {
        _heartbeats.TryRemove(sessionId, out _);
        _owedCloses[sessionId] = new OwedClose(reason, at, announce);
    }

    /// <summary>Records liveness; written at the next flush. Costs a dictionary write, no I/O.</summary>
    public void Touch(string sessionId) => _heartbeats[sessionId] = _time.GetUtcNow().UtcDateTime;

    /// <summary>Sessions with a heartbeat not yet written, and its time (the reaper must not close them).</summary>
    public DateTime? PendingHeartbeat(string sessionId) => _heartbeats.TryGetValue(sessionId, out var at) ? at : null;

    /// <summary>Runs <paramref name="work"/> inside the writer's next transaction, in queue order (for sweeps that close many sessions).</summary>
    public Task<T> ExecuteAsync<T>(Func<ISessionTransaction, CancellationToken, Task<T>> work, CancellationToken cancellationToken)
    {
        var operation = new Operation.Custom<T>(work);
        return EnqueueTyped(operation, cancellationToken);
    }

    /// <summary>As <see cref="ExecuteAsync{T}"/>, for work without a result.</summary>
    public Task ExecuteAsync(Func<ISessionTransaction, CancellationToken, Task> work, CancellationToken cancellationToken) =>
        ExecuteAsync(async (transaction, token) => { await work(transaction, token); return true; }, cancellationToken);

    /// <summary>As <see cref="ExecuteAsync{T}"/>, for work that is dropped once the writer has stopped (an announcement while stopping).</summary>
    public Task TryExecuteAsync(Func<ISessionTransaction, CancellationToken, Task> work)
    {
        var operation = new Operation.Custom<bool>(async (transaction, token) => { await work(transaction, token); return true; });
        return _queue.Writer.TryWrite(operation) ? operation.Completion : Task.CompletedTask;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await using var connection = new ReconnectingConnection(_store);

        var nextFlush = _time.GetUtcNow() + _options.FlushInterval;
        var batch = new List<Operation>(MaxBatch);
        var writesSinceStop = 0;
        var owedTriedAtStop = 0;
        while (true)
        {
            var stopping = stoppingToken.IsCancellationRequested || _queue.Reader.Completion.IsCompleted;
            if (!stopping && !_queue.Reader.TryPeek(out _))
            {
                var wait = nextFlush - _time.GetUtcNow();
                if (wait > TimeSpan.Zero)
                {
                    using var timeout = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
                    timeout.CancelAfter(wait);
                    try
                    {
                        await _queue.Reader.WaitToReadAsync(timeout.Token);
                    }
                    catch (OperationCanceledException)
                    {
                        // The flush is due, or the host is stopping: both handled below.
                    }
                }
            }

            while (batch.Count < MaxBatch && _queue.Reader.TryRead(out var operation))
            {
                batch.Add(operation);
            }

            stopping = stoppingToken.IsCancellationRequested || _queue.Reader.Completion.IsCompleted;
            var now = _time.GetUtcNow();
            var flushing = now >= nextFlush || stopping;
            var heartbeats = flushing ? TakeHeartbeats() : null;
            if (now >= nextFlush)
            {
                nextFlush = now + _options.FlushInterval;
            }

            if (batch.Count > 0 || heartbeats is { Count: > 0 })
            {
                await WriteAsync(connection, batch, heartbeats);
                batch.Clear();
            }

            // While stopping, once: each attempt may wait for the database's lock, and the stop must not.
            if (flushing && !_owedCloses.IsEmpty && !(stopping && owedTriedAtStop++ > 0))
            {
                await WriteOwedClosesAsync(connection);
            }

            if (stopping)
            {
                // Drain what is queued; give up on heartbeats a failing database keeps rejecting.
                if (!_queue.Reader.TryPeek(out _) && (_heartbeats.IsEmpty || ++writesSinceStop > 3))
                {
                    return;
                }
            }
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        // Refuse new work first, so nothing is queued after the loop has drained and ended (it would wait forever).
        _queue.Writer.TryComplete();
        await base.StopAsync(cancellationToken);
    }

    private async Task WriteAsync(ReconnectingConnection connection, List<Operation> batch, ConcurrentDictionary<string, DateTime>? heartbeats)
    {
        try
        {
            await CommitAsync(connection, batch, heartbeats);
            _storage.Succeeded();
            foreach (var operation in batch)
            {
                operation.Complete();
            }
        }
        catch (Exception exception) when (exception is DbException or InvalidOperationException or TimeoutException)
        {
            LogWriteFailed(exception, batch.Count, heartbeats?.Count ?? 0);
            _storage.Failed(exception);
            // Whatever state the connection was left in (PostgreSQL restarted: broken), the next write opens a fresh one.
            await connection.ResetAsync();
            RequeueHeartbeats(heartbeats);
            if (StorageFault.Of(exception) != StorageFaultKind.None)
            {
                // The disk refuses every write alike: each operation alone would only fail again.
                foreach (var operation in batch)
                {
                    operation.Fail(exception);
                }

                return;
            }

            if (Database.DatabaseBusy.Is(exception))
            {
                // Another writer holds the database: each operation alone would wait the busy timeout again, one
                // after the other (64 connects in flight: minutes). Fail them all now; callers retry.
                foreach (var operation in batch)
                {
                    operation.Fail(exception);
                }

                return;
            }

            // One bad operation must not fail the others that shared its transaction: retry each alone.
            foreach (var operation in batch)
            {
                try
                {
                    await CommitAsync(connection, [operation], heartbeats: null);
                    operation.Complete();
                }
                catch (Exception single) when (single is DbException or InvalidOperationException or TimeoutException)
                {
                    operation.Fail(single);
                    await connection.ResetAsync();
                }
            }
        }
    }

    private async Task CommitAsync(ReconnectingConnection connection, List<Operation> batch, ConcurrentDictionary<string, DateTime>? heartbeats)
    {
        // Writes here never depend on the caller's cancellation: a session row must reach the database even
        // when the connection that asked for it is already gone.
        var started = _time.GetTimestamp();
        await using var transaction = await (await connection.GetAsync()).BeginAsync(CancellationToken.None);

        // Heartbeats first: a reaper sweep in the same batch then sees them in the rows (they are no longer pending
        // in memory once taken for this flush).
        var heartbeatRows = 0;
        if (heartbeats is not null)
        {
            foreach (var (sessionId, at) in heartbeats)
            {
                heartbeatRows += await transaction.HeartbeatAsync(sessionId, at, CancellationToken.None);
            }
        }

        foreach (var operation in batch)
        {
            await operation.ApplyAsync(transaction);
        }

        await transaction.CommitAsync(CancellationToken.None);
        _stats.TransactionCommitted(heartbeatRows);
        _metrics.DatabaseOperation("sessions", _time.GetElapsedTime(started));
        if (heartbeats is not null)
        {
            _metrics.HeartbeatsFlushed(heartbeatRows);
        }
    }

    private async Task WriteOwedClosesAsync(ReconnectingConnection connection)
    {
        var owed = _owedCloses.ToArray();
        var closed = new List<OwedClose>(owed.Length);
        try
        {
            await using var transaction = await (await connection.GetAsync()).BeginAsync(CancellationToken.None);
            foreach (var (sessionId, close) in owed)
            {
                if (await transaction.CloseAsync(sessionId, close.Reason, null, close.At, CancellationToken.None))
                {
                    closed.Add(close);
                }
            }

            await transaction.CommitAsync(CancellationToken.None);
        }
        catch (Exception exception) when (exception is DbException or InvalidOperationException or TimeoutException)
        {
            // Still away: they stay owed, for the next flush.
            await connection.ResetAsync();
            return;
        }

        _storage.Succeeded();
        foreach (var entry in owed)
        {
            _owedCloses.TryRemove(entry);
        }

        // Outside the writer's loop: an announcement goes through the writer itself.
        foreach (var close in closed)
        {
            _ = Task.Run(async () =>
            {
                try
                {
                    await close.Announce();
                }
                catch (Exception exception) when (exception is DbException or InvalidOperationException or TimeoutException)
                {
                    LogAnnounceFailed(exception);
                }
            });
        }
    }

    private sealed record OwedClose(string Reason, DateTime At, Func<Task> Announce);

    /// <summary>Puts heartbeats of a failed flush back, unless a newer one arrived meanwhile.</summary>
    private void RequeueHeartbeats(ConcurrentDictionary<string, DateTime>? heartbeats)
    {
        foreach (var (sessionId, at) in heartbeats ?? [])
        {
            _heartbeats.AddOrUpdate(sessionId, at, (_, newer) => newer > at ? newer : at);
        }
    }

    private ConcurrentDictionary<string, DateTime>? TakeHeartbeats()
    {
        if (_heartbeats.IsEmpty)
        {
            return null;
        }

        return Interlocked.Exchange(ref _heartbeats, new ConcurrentDictionary<string, DateTime>(StringComparer.Ordinal));
    }

    private async Task Enqueue(Operation operation, CancellationToken cancellationToken)
    {
        if (!_queue.Writer.TryWrite(operation))
        {
            throw new InvalidOperationException("The session writer has stopped.");
        }

        await operation.Completion.WaitAsync(cancellationToken);
    }

    private async Task<T> EnqueueTyped<T>(Operation.Custom<T> operation, CancellationToken cancellationToken)
    {
        await Enqueue(operation, cancellationToken);
        return operation.Result!;
    }

    [LoggerMessage(EventId = 3001, Level = LogLevel.Error, Message = "Session write of {Operations} operations and {Heartbeats} heartbeats failed and was rolled back")]
    private partial void LogWriteFailed(Exception exception, int operations, int heartbeats);

    [LoggerMessage(EventId = 3002, Level = LogLevel.Warning, Message = "A session closed once the database was back could not be announced to admins")]
    private partial void LogAnnounceFailed(Exception exception);

    /// <summary>The writer's one store connection, opened when first needed and again after a failure.</summary>
    private sealed class ReconnectingConnection(ISessionStore store) : IAsyncDisposable
    {
        private ISessionStoreConnection? _connection;

        public async Task<ISessionStoreConnection> GetAsync() => _connection ??= await store.ConnectAsync(CancellationToken.None);

        public async Task ResetAsync()
        {
            if (_connection is { } broken)
            {
                _connection = null;
                try
                {
                    await broken.DisposeAsync();
                }
                catch (Exception exception) when (exception is DbException or InvalidOperationException or IOException)
                {
                    // Already broken: nothing to give back.
                }
            }
        }

        public ValueTask DisposeAsync() => _connection?.DisposeAsync() ?? ValueTask.CompletedTask;
    }

    private abstract class Operation
    {
        private readonly TaskCompletionSource _done = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task Completion => _done.Task;

        public abstract Task ApplyAsync(ISessionTransaction transaction);

        public void Complete() => _done.TrySetResult();

        public void Fail(Exception exception) => _done.TrySetException(exception);

        public sealed class Open(SessionRow row, DateTime liveSince) : Operation
        {
            /// <summary>Not inserted: the user already has <see cref="SessionRow.MaxUserSessions"/> active sessions.</summary>
            public bool Refused { get; private set; }

            public override async Task ApplyAsync(ISessionTransaction transaction) =>
                Refused = !await transaction.OpenAsync(row, liveSince, CancellationToken.None);
        }

        public sealed class Close(string sessionId, string reason, string? message, DateTime at) : Operation
        {
            public override Task ApplyAsync(ISessionTransaction transaction) =>
                transaction.CloseAsync(sessionId, reason, message, at, CancellationToken.None);
        }

        public sealed class Custom<T>(Func<ISessionTransaction, CancellationToken, Task<T>> work) : Operation
        {
            public T? Result { get; private set; }

            public override async Task ApplyAsync(ISessionTransaction transaction) =>
                Result = await work(transaction, CancellationToken.None);
        }
    }
}
