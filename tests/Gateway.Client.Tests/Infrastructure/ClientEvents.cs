using System.Collections.Concurrent;
using Gateway.Contracts;

namespace Gateway.Client.Tests.Infrastructure;

/// <summary>Records every typed event of a <see cref="GatewayClient"/>, and the order they came in.</summary>
internal sealed class ClientEvents
{
    private readonly ConcurrentQueue<string> _order = new();

    public ClientEvents(GatewayClient client)
    {
        client.Established += e => Record("established", Established.Add(e));
        client.Reconnecting += e => Record("reconnecting", Reconnecting.Add(e));
        client.Reconnected += e => Record("reconnected", Reconnected.Add(e));
        client.ConnectionClosing += e => Record("closing:" + e.Code, Closing.Add(e));
        client.Closed += e => Record("closed:" + e.Code, Closed.Add(e));
        client.SessionOpened += e => Record("session.opened", SessionOpened.Add(e));
        client.SessionClosed += e => Record("session.closed", SessionClosed.Add(e));
    }

    public EventStream<ConnectionEstablished> Established { get; } = new();

    public EventStream<Exception?> Reconnecting { get; } = new();

    public EventStream<ConnectionEstablished> Reconnected { get; } = new();

    public EventStream<ConnectionClosing> Closing { get; } = new();

    public EventStream<GatewayCloseReason> Closed { get; } = new();

    public EventStream<SessionInfo> SessionOpened { get; } = new();

    public EventStream<SessionInfo> SessionClosed { get; } = new();

    /// <summary>Event names in the order raised, e.g. <c>established, closing:stale, reconnecting, reconnected</c>.</summary>
    public IReadOnlyList<string> Order => [.. _order];

    private Task Record(string name, Task added)
    {
        _order.Enqueue(name);
        return added;
    }
}
