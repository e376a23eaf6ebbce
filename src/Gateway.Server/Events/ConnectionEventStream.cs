using System.Threading.Channels;
using Gateway.Contracts;
using Gateway.Data.Entities;
using Gateway.Server.Hubs;
using Gateway.Server.Sessions;
using Microsoft.AspNetCore.SignalR;

namespace Gateway.Server.Events;

/// <summary>
/// The events on their way to one connection: a bounded queue and one send loop, so what is queued in order is
/// sent in order. <see cref="Offer"/>, <see cref="Add"/> and <see cref="GoLive"/> run under the broadcaster's lock.
/// </summary>
internal sealed partial class ConnectionEventStream
{
    private readonly Dictionary<string, EventSubscription> _subscriptions = new(StringComparer.Ordinal);
    private readonly Channel<QueuedEvent> _queue;
    private readonly string _connectionId;
    private readonly IGatewayClient _client;
    private readonly HubConnectionContext? _connection;
    private readonly RealtimeStats _stats;
    private readonly Action _overflow;
    private readonly Metrics.GatewayMetrics _metrics;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private bool _overflowed;

    public ConnectionEventStream(
        string connectionId,
        HubConnectionContext? connection,
        int capacity,
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
        _stats = stats;
        _overflow = overflow;
        _logger = logger;
        _queue = Channel.CreateBounded<QueuedEvent>(new BoundedChannelOptions(capacity) { SingleReader = true, FullMode = BoundedChannelFullMode.Wait });
        _ = Task.Run(SendLoopAsync);
    }

    public int Count => _subscriptions.Count;

    public void Add(EventSubscription subscription) => _subscriptions[subscription.Id] = subscription;

    public IEnumerable<EventSubscription> Subscriptions => _subscriptions.Values;

    /// <summary>The subscription removed, or null when the connection has none by that id.</summary>
    public EventSubscription? Remove(string subscriptionId) => _subscriptions.Remove(subscriptionId, out var removed) ? removed : null;

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
            heldBack.Add(entry);
        }
        else
        {
            Enqueue(subscription, entry, messages);
        }
    }

    /// <summary>
    /// Queues a replayed event, waiting for room (outside the broadcaster's lock: while replaying, only the replaying
    /// caller touches this subscription). False when the connection is gone.
    /// </summary>
    public async Task<bool> EnqueueReplayedAsync(EventSubscription subscription, EventLogEntry entry, CancellationToken cancellationToken)
    {
        if (entry.Id <= subscription.LastQueuedId)
        {
            return true;
        }

        try
        {
            await _queue.Writer.WriteAsync(new QueuedEvent(subscription.Id, entry, null), cancellationToken);
        }
        catch (ChannelClosedException)
        {
            return false;
        }

        subscription.LastQueuedId = entry.Id;
        return true;
    }

    public void GoLive(EventSubscription subscription)
    {
        foreach (var entry in subscription.HeldBack ?? [])
        {
            Enqueue(subscription, entry, null);
        }

        subscription.HeldBack = null;
    }

    public void Complete() => _queue.Writer.TryComplete();

    /// <param name="messages">Live events: the shared pre-serialised messages; null for held-back ones (serialised here).</param>
    private void Enqueue(EventSubscription subscription, EventLogEntry entry, SharedEventMessages? messages)
    {
        // The one guard against a repeat: replay and held-back events can overlap at the seam.
        if (entry.Id <= subscription.LastQueuedId)
        {
            return;
        }

        var shared = _connection is not null ? messages?.For(subscription.Id) : null;
        if (!_queue.Writer.TryWrite(new QueuedEvent(subscription.Id, entry, shared)))
        {
            if (!_overflowed)
            {
                _overflowed = true;
                LogOverflow(_connectionId);
                _overflow();
            }

            return;
        }

        subscription.LastQueuedId = entry.Id;
    }

    private async Task SendLoopAsync()
    {
        await foreach (var (subscriptionId, entry, shared) in _queue.Reader.ReadAllAsync())
        {
            try
            {
                if (shared is not null)
                {
                    await _connection!.WriteAsync(shared);
                }
                else
                {
                    await _client.EventReceived(SharedEventMessages.EventOf(subscriptionId, entry));
                }

                _stats.MessagesSent(1);
                _metrics.EventDelivered(_time.GetUtcNow().UtcDateTime - entry.CreatedAt);
            }
            catch (Exception exception) when (exception is not OutOfMemoryException)
            {
                // A failed send concerns this connection only; SignalR closes it.
                LogSendFailed(exception, _connectionId);
                return;
            }
        }
    }

    [LoggerMessage(EventId = 4101, Level = LogLevel.Warning, Message = "Connection {ConnectionId} fell too far behind its events; closing it so it resumes from its last id")]
    private partial void LogOverflow(string connectionId);

    [LoggerMessage(EventId = 4102, Level = LogLevel.Debug, Message = "Sending an event to connection {ConnectionId} failed")]
    private partial void LogSendFailed(Exception exception, string connectionId);

    /// <param name="Shared">The live event's message shared with other connections, or null to serialise it here.</param>
    private readonly record struct QueuedEvent(string SubscriptionId, EventLogEntry Entry, SerializedHubMessage? Shared);
}
