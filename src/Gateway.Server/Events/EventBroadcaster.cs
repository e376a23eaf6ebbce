using Gateway.Contracts;
using Gateway.Data.Entities;

namespace Gateway.Server.Events;

/// <summary>
/// Hands committed events to the subscriptions of this node's connections, in id order. A subscription that asked
/// for a position first gets the logged events after it (read by <see cref="EventReplay"/>), while live events are
/// held back; then the held-back ones; then live ones: no gap, no repeat, ids ascending.
/// </summary>
/// <remarks>
/// Publish never blocks and never throws: each connection has its own bounded queue and send loop, and a connection
/// whose queue overflows is closed (its client reconnects and resumes from its last id, losing nothing).
/// </remarks>
internal sealed class EventBroadcaster
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, ConnectionEventStream> _streams = new(StringComparer.Ordinal);
    private readonly SubscriptionIndex _index = new();
    private readonly SharedEventMessages _messages = new();
    private long _head;

    /// <summary>The id of the newest event published (or logged before this node started).</summary>
    public long Head
    {
        get
        {
            lock (_gate)
            {
                return _head;
            }
        }
    }

    public void Initialize(long head)
    {
        lock (_gate)
        {
            _head = Math.Max(_head, head);
        }
    }

    /// <summary>Called by the change writer after each commit, with the events of that commit in id order.</summary>
    public void Publish(IReadOnlyList<EventLogEntry> events)
    {
        if (events.Count == 0)
        {
            return;
        }

        lock (_gate)
        {
            foreach (var entry in events.OrderBy(e => e.Id))
            {
                _head = entry.Id;
                _messages.Begin(entry);
                _index.Offer(entry, _messages);
            }
        }
    }

    public ConnectionEventStream StreamOf(string connectionId, Func<ConnectionEventStream> create)
    {
        lock (_gate)
        {
            if (!_streams.TryGetValue(connectionId, out var stream))
            {
                stream = create();
                _streams[connectionId] = stream;
            }

            return stream;
        }
    }

    /// <summary>Registers a subscription and returns the head it starts after; atomically with respect to publishing.</summary>
    public long Register(ConnectionEventStream stream, EventSubscription subscription)
    {
        lock (_gate)
        {
            stream.Add(subscription);
            _index.Add(stream, subscription);
            return _head;
        }
    }

    /// <summary>Ends replay: held-back live events follow the replayed ones, then the subscription is live.</summary>
    public void GoLive(ConnectionEventStream stream, EventSubscription subscription)
    {
        lock (_gate)
        {
            stream.GoLive(subscription);
        }
    }

    public bool Unregister(string connectionId, string subscriptionId)
    {
        lock (_gate)
        {
            if (!_streams.TryGetValue(connectionId, out var stream) || stream.Remove(subscriptionId) is not { } removed)
            {
                return false;
            }

            removed.Removed = true;
            _index.Remove(stream, removed);
            return true;
        }
    }

    public void Remove(string connectionId)
    {
        ConnectionEventStream? stream;
        lock (_gate)
        {
            if (_streams.Remove(connectionId, out stream))
            {
                foreach (var subscription in stream.Subscriptions)
                {
                    _index.Remove(stream, subscription);
                }
            }
        }

        stream?.Complete();
    }

    /// <summary>The estimated memory held by events waiting for this node's connections.</summary>
    public long QueuedBytes
    {
        get
        {
            lock (_gate)
            {
                return _streams.Values.Sum(s => s.Bytes);
            }
        }
    }

    public int SubscriptionCount
    {
        get
        {
            lock (_gate)
            {
                return _streams.Values.Sum(s => s.Count);
            }
        }
    }
}
