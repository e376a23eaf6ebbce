using System.Diagnostics.Metrics;
using Gateway.Server.Sessions;

namespace Gateway.Server.Metrics;

/// <summary>
/// The gateway's instruments, on the meter <see cref="MeterName"/>. Counters and histograms are recorded where the
/// work happens; connection and session gauges are read from the live registry when scraped. Every measurement
/// carries this node's id (<c>node</c>), so the series of several nodes stay apart wherever they are gathered.
/// </summary>
internal sealed class GatewayMetrics
{
    public const string MeterName = "Gateway";

    private readonly Counter<long> _heartbeatsReceived;
    private readonly Histogram<long> _heartbeatBatchSize;
    private readonly Counter<long> _eventsPersisted;
    private readonly Counter<long> _eventsDelivered;
    private readonly Histogram<double> _deliveryLag;
    private readonly Histogram<double> _databaseDuration;
    private readonly Counter<long> _hubErrors;
    private readonly Counter<long> _fellBehind;

    private readonly KeyValuePair<string, object?> _node;

    public GatewayMetrics(IMeterFactory meters, LiveConnections live, Events.EventBroadcaster broadcaster, Microsoft.Extensions.Options.IOptions<NodeOptions> node)
    {
        _node = new("node", node.Value.ResolvedId);
        var meter = meters.Create(MeterName);
        meter.CreateObservableGauge(
            "gateway.connections",
            () => live.All.GroupBy(c => (c.ConnectionType, c.Protocol))
                .Select(g => new Measurement<int>(g.Count(), _node, new("transport", g.Key.ConnectionType), new("protocol", g.Key.Protocol))),
            unit: "{connection}",
            description: "Open connections on this node, by transport and protocol.");
        meter.CreateObservableGauge("gateway.sessions.active", () => new Measurement<int>(live.Count, _node), unit: "{session}", description: "Active sessions of this node.");
        _heartbeatsReceived = meter.CreateCounter<long>("gateway.heartbeats.received", unit: "{heartbeat}", description: "Heartbeat invocations received.");
        _heartbeatBatchSize = meter.CreateHistogram<long>(
            "gateway.heartbeats.flush.size", unit: "{heartbeat}", description: "Heartbeats written per flush (one transaction each).");
        _eventsPersisted = meter.CreateCounter<long>("gateway.events.persisted", unit: "{event}", description: "Events committed to the event log.");
        _eventsDelivered = meter.CreateCounter<long>("gateway.events.delivered", unit: "{event}", description: "Events sent to subscribers.");
        _deliveryLag = meter.CreateHistogram<double>(
            "gateway.events.delivery.lag", unit: "ms", description: "From the change that produced an event to its send to a subscriber.");
        _databaseDuration = meter.CreateHistogram<double>(
            "gateway.db.operation.duration", unit: "ms", description: "Duration of a group transaction, by writer.");
        _hubErrors = meter.CreateCounter<long>("gateway.hub.errors", unit: "{error}", description: "Hub errors returned to clients, by code.");
        meter.CreateObservableGauge(
            "gateway.events.queued.bytes",
            () => new Measurement<long>(broadcaster.QueuedBytes, _node),
            unit: "By",
            description: "Estimated memory held by events waiting for this node's connections (queued, or held back during a replay).");
        _fellBehind = meter.CreateCounter<long>(
            "gateway.connections.fell_behind",
            unit: "{connection}",
            description: "Connections closed because their undelivered events passed a bound, by bound (events, bytes, stalled).");
    }

    public void HeartbeatReceived() => _heartbeatsReceived.Add(1, _node);

    public void HeartbeatsFlushed(int count) => _heartbeatBatchSize.Record(count, _node);

    public void EventsPersisted(int count) => _eventsPersisted.Add(count, _node);

    public void EventDelivered(TimeSpan lag)
    {
        _eventsDelivered.Add(1, _node);
        _deliveryLag.Record(Math.Max(0, lag.TotalMilliseconds), _node);
    }

    public void DatabaseOperation(string writer, TimeSpan duration) =>
        _databaseDuration.Record(duration.TotalMilliseconds, _node, new KeyValuePair<string, object?>("writer", writer));

    public void FellBehind(Events.OverflowLimit limit) =>
        _fellBehind.Add(1, _node, new KeyValuePair<string, object?>("limit", limit.ToString().ToLowerInvariant()));

    public void HubError(string code) => _hubErrors.Add(1, _node, new KeyValuePair<string, object?>("code", code));
}
