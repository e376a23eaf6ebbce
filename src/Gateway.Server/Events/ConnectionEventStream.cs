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
    private readonly Channel<(string SubscriptionId, EventLogEntry Entry)> _queue;
    private readonly string _connectionId;
    private readonly IGatewayClient _client;
    private readonly RealtimeStats _stats;
    private readonly Action _overflow;
    private readonly Metrics.GatewayMetrics _metrics;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private bool _overflowed;

    public ConnectionEventStream(
        string connectionId,
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
        _stats = stats;
        _overflow = overflow;
        _logger = logger;
        _queue = Channel.CreateBounded<(string, EventLogEntry)>(new BoundedChannelOptions(capacity) { SingleReader = true, FullMode = BoundedChannelFullMode.Wait });
        _ = Task.Run(SendLoopAsync);
    }

    public int Count => _subscriptions.Count;

    public void Add(EventSubscription subscription) => _subscriptions[subscription.Id] = subscription;

    public IEnumerable<EventSubscription> Subscriptions => _subscriptions.Values;

    /// <summary>The subscription removed, or null when the connection has none by that id.</summary>
    public EventSubscription? Remove(string subscriptionId) => _subscriptions.Remove(subscriptionId, out var removed) ? removed : null;

    public bool Has(string subscriptionId) => _subscriptions.ContainsKey(subscriptionId);

    /// <summary>A live event for one of this connection's subscriptions (the index found it by subject).</summary>
    public void Deliver(EventSubscription subscription, EventLogEntry entry)
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
            Enqueue(subscription, entry);
        }
    }

    public async Task<bool> EnqueueReplayedAsync(EventSubscription subscription, EventLogEntry entry, CancellationToken cancellationToken)
    {
        if (entry.Id <= subscription.LastQueuedId)
        {
            return true;
        }

        try
        {
            await _queue.Writer.WriteAsync((subscription.Id, entry), cancellationToken);
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
            Enqueue(subscription, entry);
        }

        subscription.HeldBack = null;
    }

    public void Complete() => _queue.Writer.TryComplete();

    private void Enqueue(EventSubscription subscription, EventLogEntry entry)
    {
        // The one guard against a repeat: replay and held-back events can overlap at the seam.
        if (entry.Id <= subscription.LastQueuedId)
        {
            return;
        }

        if (!_queue.Writer.TryWrite((subscription.Id, entry)))
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
        await foreach (var (subscriptionId, entry) in _queue.Reader.ReadAllAsync())
        {
            try
            {
                await _client.EventReceived(new GatewayEvent(
                    subscriptionId, entry.Id, entry.EventType, entry.Priority, entry.TaskId, entry.WorkflowId, entry.ExecutionId, entry.Payload, entry.CreatedAt));
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
}
