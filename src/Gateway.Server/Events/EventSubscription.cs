using Gateway.Contracts;
using Gateway.Data.Entities;

namespace Gateway.Server.Events;

/// <summary>One subscription of a connection: what it follows, and where it is in the log.</summary>
internal sealed class EventSubscription
{
    private readonly HashSet<string>? _types;
    private bool _removed;

    /// <param name="seesConfiguration">
    /// Whether config.* events reach this subscription: only an admin's. The configuration API is admin-only, and its
    /// events name keys and carry non-secret values, so a dashboard token sees neither.
    /// </param>
    public EventSubscription(string id, SubscriptionRequest request, bool seesConfiguration)
    {
        Id = id;
        SeesConfiguration = seesConfiguration;
        Scope = request.Scope;
        SubjectId = request.Id;
        MinPriority = request.MinPriority;
        _types = request.Types is { Count: > 0 } types ? new HashSet<string>(types, StringComparer.Ordinal) : null;
    }

    public string Id { get; }

    public string Scope { get; }

    public string? SubjectId { get; }

    public int MinPriority { get; }

    public bool SeesConfiguration { get; }

    /// <summary>While replaying, live events wait here; null once live. Guarded by the broadcaster's lock.</summary>
    public List<EventLogEntry>? HeldBack { get; set; }

    /// <summary>
    /// Set (under the broadcaster's lock) when the client unsubscribes. A connection's invocations run side by side, so
    /// an Unsubscribe can arrive while this subscription's Subscribe still replays: the replay stops at the next event
    /// and the subscription never goes live.
    /// </summary>
    public bool Removed
    {
        get => Volatile.Read(ref _removed);
        set => Volatile.Write(ref _removed, value);
    }

    /// <summary>The newest id handed to the connection's queue; guarded by the broadcaster's lock once live.</summary>
    public long LastQueuedId { get; set; }

    /// <summary>The type and priority filters; live events reach a subscription through the <see cref="SubscriptionIndex"/>, which matched the subject.</summary>
    public bool Accepts(EventLogEntry entry) =>
        entry.Priority >= MinPriority
        && (_types is null || _types.Contains(entry.EventType))
        && (SeesConfiguration || !entry.EventType.StartsWith(ConfigurationEventPrefix, StringComparison.Ordinal));

    private const string ConfigurationEventPrefix = "config.";

    /// <summary>Filters and subject together: replay reads the log by position and checks each event here.</summary>
    public bool Matches(EventLogEntry entry) =>
        Accepts(entry)
        && Scope switch
        {
            SubscriptionScopes.All => true,
            SubscriptionScopes.Task => entry.TaskId == SubjectId,
            SubscriptionScopes.Workflow => entry.WorkflowId == SubjectId,
            SubscriptionScopes.ToolExecution => entry.ExecutionId == SubjectId,
            _ => false,
        };
}
