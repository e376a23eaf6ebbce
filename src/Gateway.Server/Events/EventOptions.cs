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

    /// <summary>
    /// Memory the events waiting for one connection may hold (queued, and held back while it replays), estimated as
    /// two bytes a character of their payloads plus 256 bytes each. Past it a live event closes the connection
    /// (<c>fell_behind</c>); a replay waits for room. One event larger than the whole budget still goes out alone.
    /// </summary>
    public long QueueBytesPerConnection { get; set; } = 16L * 1024 * 1024;

    /// <summary>Bytes of events one replay page reads from the log at most (besides its 500 events), by the same estimate.</summary>
    public long ReplayPageBytes { get; set; } = 4L * 1024 * 1024;

    /// <summary>A replay that finds no room in its connection's queue for this long closes it (<c>fell_behind</c>).</summary>
    public double ReplayStallTimeoutSeconds { get; set; } = 30;

    public int MaxSubscriptionsPerConnection { get; set; } = 100;

    /// <summary>How often this node looks for events other nodes committed to the shared log (a cheap check; the log is read only when it changed).</summary>
    public int FollowIntervalMilliseconds { get; set; } = 15;

    /// <summary>
    /// On PostgreSQL other nodes' commits wake this node at once (LISTEN/NOTIFY); the log is also read this often, so a
    /// notification lost with a dropped connection costs at most this long.
    /// </summary>
    public int PostgresPollIntervalMilliseconds { get; set; } = 1000;

    /// <summary>
    /// On PostgreSQL, how long the change writer keeps asking the database whether a transaction committed when the
    /// connection was lost during its commit (the changes' callers wait that long at most); past it they get
    /// <c>commit_outcome_unknown</c>.
    /// </summary>
    public int CommitOutcomeWaitSeconds { get; set; } = 15;
}

internal sealed class EventOptionsValidator : Microsoft.Extensions.Options.IValidateOptions<EventOptions>
{
    public Microsoft.Extensions.Options.ValidateOptionsResult Validate(string? name, EventOptions options)
    {
        var failures = new List<string>();
        void Require(bool ok, string setting, object value, string rule)
        {
            if (!ok)
            {
                failures.Add($"{EventOptions.SectionName}:{setting} must be {rule}, not {value}");
            }
        }

        Require(options.QueueCapacityPerConnection >= 1, nameof(options.QueueCapacityPerConnection), options.QueueCapacityPerConnection, "at least 1 (e.g. 10000)");
        Require(options.QueueBytesPerConnection >= 65_536, nameof(options.QueueBytesPerConnection), options.QueueBytesPerConnection, "at least 65536 (e.g. 16777216, 16 MiB)");
        Require(options.ReplayPageBytes >= 1, nameof(options.ReplayPageBytes), options.ReplayPageBytes, "at least 1 (e.g. 4194304, 4 MiB)");
        Require(options.ReplayStallTimeoutSeconds is > 0 and <= 86_400, nameof(options.ReplayStallTimeoutSeconds), options.ReplayStallTimeoutSeconds, "above 0 and at most 86400 (e.g. 30)");
        Require(options.FollowIntervalMilliseconds is >= 1 and <= 10_000, nameof(options.FollowIntervalMilliseconds), options.FollowIntervalMilliseconds, "from 1 to 10000 (e.g. 15)");
        Require(options.PostgresPollIntervalMilliseconds is >= 10 and <= 60_000, nameof(options.PostgresPollIntervalMilliseconds), options.PostgresPollIntervalMilliseconds, "from 10 to 60000 (e.g. 1000)");
        Require(options.CommitOutcomeWaitSeconds is >= 1 and <= 300, nameof(options.CommitOutcomeWaitSeconds), options.CommitOutcomeWaitSeconds, "from 1 to 300 (e.g. 15)");
        Require(options.MaxSubscriptionsPerConnection >= 1, nameof(options.MaxSubscriptionsPerConnection), options.MaxSubscriptionsPerConnection, "at least 1 (e.g. 100)");
        return failures.Count == 0 ? Microsoft.Extensions.Options.ValidateOptionsResult.Success : Microsoft.Extensions.Options.ValidateOptionsResult.Fail(failures);
    }
}
