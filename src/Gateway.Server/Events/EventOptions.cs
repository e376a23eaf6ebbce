namespace Gateway.Server.Events;

/// <summary>The event log and its subscribers. Bound from the "Events" section.</summary>
public sealed class EventOptions
{
    public const string SectionName = "Events";

    /// <summary>Events older than this are pruned; a client resuming from before that gets a reset answer.</summary>
    public double RetentionHours { get; set; } = 168;

    public double PruneIntervalMinutes { get; set; } = 10;

    /// <summary>Events waiting for one slow connection before it is closed (it then resumes from its last id).</summary>
    public int QueueCapacityPerConnection { get; set; } = 10_000;

    public int MaxSubscriptionsPerConnection { get; set; } = 100;
}
