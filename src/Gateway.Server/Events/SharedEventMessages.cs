using Gateway.Contracts;
using Gateway.Data.Entities;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Protocol;

namespace Gateway.Server.Events;

/// <summary>
/// The <c>EventReceived</c> messages of one event being published, one per subscription id. A subscription id is the
/// client's choice and only has to be unique on its connection, so subscribers that choose the same id for the same
/// kind of subscription (the dashboard's, GatewayClient's derived ids) receive byte-identical messages: each is
/// serialised once per protocol (<see cref="SerializedHubMessage"/> caches per protocol) and written to every
/// connection as bytes, as SignalR does for a group, instead of once per delivery. Used under the broadcaster's lock.
/// </summary>
internal sealed class SharedEventMessages
{
    private readonly Dictionary<string, SerializedHubMessage> _bySubscription = new(StringComparer.Ordinal);
    private EventLogEntry? _entry;

    /// <summary>Starts the messages of the next event; the previous event's stay with the queues they went to.</summary>
    public void Begin(EventLogEntry entry)
    {
        _entry = entry;
        _bySubscription.Clear();
    }

    public SerializedHubMessage For(string subscriptionId)
    {
        if (!_bySubscription.TryGetValue(subscriptionId, out var message))
        {
            message = new SerializedHubMessage(new InvocationMessage(nameof(IGatewayClient.EventReceived), [EventOf(subscriptionId, _entry!)]));
            _bySubscription[subscriptionId] = message;
        }

        return message;
    }

    public static GatewayEvent EventOf(string subscriptionId, EventLogEntry entry) =>
        new(subscriptionId, entry.Id, entry.EventType, entry.Priority, entry.TaskId, entry.WorkflowId, entry.ExecutionId, entry.Payload, entry.CreatedAt);
}
