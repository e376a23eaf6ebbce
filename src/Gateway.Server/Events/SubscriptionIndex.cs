using Gateway.Contracts;
using Gateway.Data.Entities;

namespace Gateway.Server.Events;

/// <summary>
/// The live subscriptions of this node by what they follow, so an event reaches the subscriptions of its task,
/// workflow or tool execution (and those following everything) without visiting every connection: with thousands of
/// connections each following one task, publishing cost what the node had connections, not what the event had
/// subscribers. Guarded by the broadcaster's lock.
/// </summary>
internal sealed class SubscriptionIndex
{
    private readonly List<Entry> _everything = [];
    private readonly Dictionary<(string Scope, string Subject), List<Entry>> _bySubject = [];

    public void Add(ConnectionEventStream stream, EventSubscription subscription) =>
        ListFor(subscription, create: true)!.Add(new Entry(stream, subscription));

    public void Remove(ConnectionEventStream stream, EventSubscription subscription)
    {
        if (ListFor(subscription, create: false) is not { } list)
        {
            return;
        }

        list.RemoveAll(entry => ReferenceEquals(entry.Subscription, subscription) && ReferenceEquals(entry.Stream, stream));
        if (list.Count == 0 && subscription.Scope != SubscriptionScopes.All)
        {
            _bySubject.Remove(KeyOf(subscription));
        }
    }

    /// <summary>Hands the event to every subscription whose subject it concerns; each checks its own type and priority filters.</summary>
    public void Offer(EventLogEntry entry, SharedEventMessages messages)
    {
        Deliver(_everything, entry, messages);
        Deliver(SubjectFollowers(SubscriptionScopes.Task, entry.TaskId), entry, messages);
        Deliver(SubjectFollowers(SubscriptionScopes.Workflow, entry.WorkflowId), entry, messages);
        Deliver(SubjectFollowers(SubscriptionScopes.ToolExecution, entry.ExecutionId), entry, messages);
    }

    private static void Deliver(List<Entry>? followers, EventLogEntry entry, SharedEventMessages messages)
    {
        if (followers is null)
        {
            return;
        }

        foreach (var (stream, subscription) in followers)
        {
            stream.Deliver(subscription, entry, messages);
        }
    }

    private List<Entry>? SubjectFollowers(string scope, string? subject) =>
        subject is not null && _bySubject.TryGetValue((scope, subject), out var list) ? list : null;

    private List<Entry>? ListFor(EventSubscription subscription, bool create)
    {
        if (subscription.Scope == SubscriptionScopes.All)
        {
            return _everything;
        }

        var key = KeyOf(subscription);
        if (!_bySubject.TryGetValue(key, out var list) && create)
        {
            list = [];
            _bySubject[key] = list;
        }

        return list;
    }

    private static (string, string) KeyOf(EventSubscription subscription) => (subscription.Scope, subscription.SubjectId ?? string.Empty);

    private readonly record struct Entry(ConnectionEventStream Stream, EventSubscription Subscription);
}
