using Gateway.Contracts;
using Gateway.Data.Entities;
using Gateway.Server.Hubs;
using Gateway.Server.Sessions;
using Microsoft.AspNetCore.SignalR;

namespace Gateway.Server.Events;

/// <summary>
/// The events on their way to one connection, in order. A live event for an idle connection is written at once, on
/// the publishing thread, as SignalR writes a group message (the write only fills the connection's pipe; the
/// transport sends it); while a write is still in flight the next events wait in a bounded queue that one drain loop
/// empties, so what is queued in order is sent in order. <see cref="Deliver"/>, <see cref="Add"/> and
/// <see cref="GoLive"/> run under the broadcaster's lock; the queue has its own.
/// </summary>
/// <remarks>
/// What one connection may hold is bounded in events and in bytes (<see cref="EventQueueLimits"/>): the queue and the
/// live events held back while a subscription replays count together. A live event that would pass either bound
/// closes the connection (<c>fell_behind</c>: its client resumes from its last id); a replay waits for room instead,
/// and closes the connection when no room comes for <see cref="EventQueueLimits.StallTimeout"/>.
/// Before, every event went through a channel and a send loop per connection: one thread-pool hop per delivery, and
/// about 4 % of the server's CPU in scenario a of the benchmarks at 30,000 deliveries/s (bench/README.md).
/// </remarks>
internal sealed partial class ConnectionEventStream
{
    private readonly Dictionary<string, EventSubscription> _subscriptions = new(StringComparer.Ordinal);
    private readonly Lock _queueGate = new();
    private readonly Queue<QueuedEvent> _queue = new();
    private readonly EventQueueLimits _limits;
    private readonly string _connectionId;
    private readonly IGatewayClient _client;
    private readonly HubConnectionContext? _connection;
    private readonly RealtimeStats _stats;
    private readonly Action _overflow;
    private readonly Metrics.GatewayMetrics _metrics;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private int _overflowed;

    // Estimated memory of the queued and held-back events (Interlocked: held-back events are counted under the
    // broadcaster's lock, queued ones under the queue's).
    private long _bytes;

    // Guarded by _queueGate: a write is in flight or the drain loop runs (new events queue behind it); the
    // connection is gone; a replay waiting for room in the queue.
    private bool _sending;
    private bool _completed;
    private TaskCompletionSource? _room;

    public ConnectionEventStream(
        string connectionId,
        HubConnectionContext? connection,
        EventQueueLimits limits,
        IHubContext<GatewayHub, IGatewayClient> hub,
        RealtimeStats stats,
        Metrics.GatewayMetrics metrics,
        TimeProvider time,
        Action overflow,
        ILogger logger)
    {
        _metrics = metrics;
        _time = time;
        _connectionId = connectionId;
        // One typed proxy for the connection's lifetime rather than one per event (it only names the connection;
        // the lifetime manager resolves it at each send).
        _client = hub.Clients.Client(connectionId);
        _connection = connection;
        _limits = limits;
        _stats = stats;
        _overflow = overflow;
        _logger = logger;
    }

    public int Count => _subscriptions.Count;

    /// <summary>Estimated bytes of memory the queued and held-back events of this connection hold.</summary>
    public long Bytes => Interlocked.Read(ref _bytes);

    /// <summary>
    /// The memory an event holds while it waits: its payload and type as .NET strings (two bytes a character) and a
    /// fixed share for the entry, its ids and the queue slot. Cheap (no encoding), and an upper bound of what is sent.
    /// </summary>
    public static long CostOf(EventLogEntry entry) => EventOverheadBytes + 2L * (entry.Payload.Length + entry.EventType.Length);

    private const int EventOverheadBytes = 256;

    public void Add(EventSubscription subscription) => _subscriptions[subscription.Id] = subscription;

    public IEnumerable<EventSubscription> Subscriptions => _subscriptions.Values;

    /// <summary>The subscription removed, or null when the connection has none by that id.</summary>
    public EventSubscription? Remove(string subscriptionId)
    {
        if (!_subscriptions.Remove(subscriptionId, out var removed))
        {
            return null;
        }

        ReleaseHeldBack(removed);
        return removed;
    }

    public bool Has(string subscriptionId) => _subscriptions.ContainsKey(subscriptionId);

    /// <summary>A live event for one of this connection's subscriptions (the index found it by subject).</summary>
    public void Deliver(EventSubscription subscription, EventLogEntry entry, SharedEventMessages messages)
    {
        if (!subscription.Accepts(entry))
        {
            return;
        }

        if (subscription.HeldBack is { } heldBack)
        {
            if (heldBack.Count >= _limits.Events || !TryReserve(CostOf(entry)))
            {
                Overflow(heldBack.Count >= _limits.Events ? OverflowLimit.Events : OverflowLimit.Bytes);
                return;
            }

            heldBack.Add(entry);
        }
        else
        {
            Enqueue(subscription, entry, messages);
        }
    }

    /// <summary>
    /// Queues a replayed event, waiting for room (outside the broadcaster's lock: while replaying, only the replaying
    /// caller touches this subscription). False when the connection is gone or the subscription was removed meanwhile.
    /// </summary>
    public async Task<bool> EnqueueReplayedAsync(EventSubscription subscription, EventLogEntry entry, CancellationToken cancellationToken)
    {
        if (subscription.Removed)
        {
            return false;
        }

        if (entry.Id <= subscription.LastQueuedId)
        {
            return true;
        }

        var item = new QueuedEvent(subscription.Id, entry, null, CostOf(entry));
        while (true)
        {
            Task room;
            lock (_queueGate)
            {
                if (_completed)
                {
                    return false;
                }

                if (!_sending || HasRoom(item.Cost))
                {
                    room = Task.CompletedTask;
                }
                else
                {
                    _room ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                    room = _room.Task;
                }
            }

            if (room.IsCompleted && TrySend(item))
            {
                break;
            }

            try
            {
                await room.WaitAsync(_limits.StallTimeout, cancellationToken);
            }
            catch (TimeoutException)
            {
                // The client took nothing for that long: it holds its share of memory and makes no progress.
                Overflow(OverflowLimit.Stalled);
                return false;
            }
        }

        subscription.LastQueuedId = entry.Id;
        return true;
    }

    public void GoLive(EventSubscription subscription)
    {
        if (subscription.Removed)
        {
            // Unsubscribed while it replayed: nothing more goes out for it.
            ReleaseHeldBack(subscription);
            return;
        }

        var heldBack = subscription.HeldBack ?? [];
        ReleaseHeldBack(subscription);
        foreach (var entry in heldBack)
        {
            Enqueue(subscription, entry, null);
        }
    }

    private void ReleaseHeldBack(EventSubscription subscription)
    {
        if (subscription.HeldBack is { } heldBack)
        {
            Interlocked.Add(ref _bytes, -heldBack.Sum(CostOf));
            subscription.HeldBack = null;
        }
    }

    /// <summary>The connection is gone: nothing more is sent, queued events are dropped, a waiting replay ends.</summary>
    public void Complete()
    {
        lock (_queueGate)
        {
            _completed = true;
            foreach (var item in _queue)
            {
                Interlocked.Add(ref _bytes, -item.Cost);
            }

            _queue.Clear();
            _room?.TrySetResult();
            _room = null;
        }
    }

    /// <param name="messages">Live events: the shared pre-serialised messages; null for held-back ones (serialised here).</param>
    private void Enqueue(EventSubscription subscription, EventLogEntry entry, SharedEventMessages? messages)
    {
        // The one guard against a repeat: replay and held-back events can overlap at the seam.
        if (entry.Id <= subscription.LastQueuedId)
        {
            return;
        }

        var shared = _connection is not null ? messages?.For(subscription.Id) : null;
        if (!TrySend(new QueuedEvent(subscription.Id, entry, shared, CostOf(entry))))
        {
            Overflow(Volatile.Read(ref _bytes) + CostOf(entry) > _limits.Bytes ? OverflowLimit.Bytes : OverflowLimit.Events);
            return;
        }

        subscription.LastQueuedId = entry.Id;
    }

    /// <summary>
    /// Writes the event now when nothing is in flight, else queues it behind what is. False when the queue is full.
    /// </summary>
    private bool TrySend(QueuedEvent item)
    {
        lock (_queueGate)
        {
            if (_completed)
            {
                // The connection is going away; its client resumes from its last id.
                return true;
            }

            if (_sending)
            {
                if (_queue.Count >= _limits.Events || !TryReserve(item.Cost))
                {
                    return false;
                }

                _queue.Enqueue(item);
                return true;
            }

            _sending = true;
        }

        ValueTask write;
        try
        {
            write = WriteAsync(item);
        }
        catch (Exception exception) when (exception is not OutOfMemoryException)
        {
            Failed(exception);
            return true;
        }

        if (write.IsCompletedSuccessfully)
        {
            Sent(item);
            if (!StopIfIdle())
            {
                // Queued meanwhile (a replay, outside the broadcaster's lock): drain on the thread pool, not here.
                _ = Task.Run(DrainAsync);
            }
        }
        else
        {
            _ = CompleteThenDrainAsync(write, item);
        }

        return true;
    }

    private async Task CompleteThenDrainAsync(ValueTask write, QueuedEvent item)
    {
        try
        {
            await write;
        }
        catch (Exception exception) when (exception is not OutOfMemoryException)
        {
            Failed(exception);
            return;
        }

        Sent(item);
        await DrainAsync();
    }

    /// <summary>Sends what was queued behind a write, in order, until the queue is empty.</summary>
    private async Task DrainAsync()
    {
        while (!IdleOrNext(out var item))
        {
            try
            {
                await WriteAsync(item);
            }
            catch (Exception exception) when (exception is not OutOfMemoryException)
            {
                Failed(exception);
                return;
            }

            Sent(item);
        }
    }

    /// <summary>True (and no longer sending) when nothing is queued.</summary>
    private bool StopIfIdle()
    {
        lock (_queueGate)
        {
            if (_completed || _queue.Count == 0)
            {
                Idle();
                return true;
            }

            return false;
        }
    }

    /// <summary>True (and no longer sending) when nothing is queued; otherwise takes the next event to send.</summary>
    private bool IdleOrNext(out QueuedEvent next)
    {
        lock (_queueGate)
        {
            if (_completed || !_queue.TryDequeue(out next))
            {
                next = default;
                Idle();
                return true;
            }

            Interlocked.Add(ref _bytes, -next.Cost);
            _room?.TrySetResult();
            _room = null;
            return false;
        }
    }

    /// <summary>Nothing in flight (under the queue's lock): a replay waiting for room may write directly now.</summary>
    private void Idle()
    {
        _sending = false;
        _room?.TrySetResult();
        _room = null;
    }

    /// <summary>Whether an event of <paramref name="cost"/> fits (under the queue's lock). An event larger than the whole budget fits an empty one.</summary>
    private bool HasRoom(long cost) =>
        _queue.Count < _limits.Events && (_queue.Count == 0 && Volatile.Read(ref _bytes) == 0 || Volatile.Read(ref _bytes) + cost <= _limits.Bytes);

    /// <summary>Counts <paramref name="cost"/> against the byte budget, or refuses it (an event alone always fits).</summary>
    private bool TryReserve(long cost)
    {
        var total = Interlocked.Add(ref _bytes, cost);
        if (total <= _limits.Bytes || total == cost)
        {
            return true;
        }

        Interlocked.Add(ref _bytes, -cost);
        return false;
    }

    /// <summary>Closes the connection, once, because it passed a bound: its client resumes from its last id.</summary>
    private void Overflow(OverflowLimit limit)
    {
        if (Interlocked.Exchange(ref _overflowed, 1) != 0)
        {
            return;
        }

        LogOverflow(_connectionId, limit, Interlocked.Read(ref _bytes));
        _metrics.FellBehind(limit);
        _overflow();
    }

    private ValueTask WriteAsync(QueuedEvent item) =>
        item.Shared is { } shared
            ? _connection!.WriteAsync(shared)
            : new ValueTask(_client.EventReceived(SharedEventMessages.EventOf(item.SubscriptionId, item.Entry)));

    private void Sent(QueuedEvent item)
    {
        _stats.MessagesSent(1);
        _metrics.EventDelivered(_time.GetUtcNow().UtcDateTime - item.Entry.CreatedAt);
    }

    private void Failed(Exception exception)
    {
        // A failed send concerns this connection only; SignalR closes it.
        LogSendFailed(exception, _connectionId);
        Complete();
    }

    [LoggerMessage(EventId = 4101, Level = LogLevel.Warning, Message = "Connection {ConnectionId} fell too far behind its events ({Limit}, {Bytes} bytes held); closing it so it resumes from its last id")]
    private partial void LogOverflow(string connectionId, OverflowLimit limit, long bytes);

    [LoggerMessage(EventId = 4102, Level = LogLevel.Debug, Message = "Sending an event to connection {ConnectionId} failed")]
    private partial void LogSendFailed(Exception exception, string connectionId);

    /// <param name="Shared">The live event's message shared with other connections, or null to serialise it here.</param>
    /// <param name="Cost">What it counts against the byte budget: <see cref="CostOf"/>.</param>
    private readonly record struct QueuedEvent(string SubscriptionId, EventLogEntry Entry, SerializedHubMessage? Shared, long Cost);
}

/// <summary>What one connection may hold of undelivered events (<see cref="EventOptions"/>).</summary>
/// <param name="Events">Queued and held-back events.</param>
/// <param name="Bytes">Their estimated memory (<see cref="ConnectionEventStream.CostOf"/>).</param>
/// <param name="StallTimeout">How long a replay waits for room before the connection is closed.</param>
internal sealed record EventQueueLimits(int Events, long Bytes, TimeSpan StallTimeout)
{
    public static EventQueueLimits From(EventOptions options) =>
        new(options.QueueCapacityPerConnection, options.QueueBytesPerConnection, TimeSpan.FromSeconds(options.ReplayStallTimeoutSeconds));
}

/// <summary>Which bound a connection passed when it was closed as fell_behind (a metric tag and a log field).</summary>
internal enum OverflowLimit
{
    Events,
    Bytes,
    Stalled,
}
