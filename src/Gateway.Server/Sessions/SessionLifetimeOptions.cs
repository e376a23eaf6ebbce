using Microsoft.Extensions.Options;

namespace Gateway.Server.Sessions;

/// <summary>
/// Liveness and retention of sessions. Bound from the "Sessions" section.
/// </summary>
/// <remarks>
/// Invariant, checked at start: <c>FlushIntervalSeconds + HeartbeatIntervalSeconds &lt; StaleTimeoutSeconds</c>.
/// A client that beats on time has its newest heartbeat in the database at most one heartbeat interval plus one
/// flush interval old, so it is never reaped; a client silent for the stale timeout is.
/// </remarks>
public sealed class SessionLifetimeOptions
{
    public const string SectionName = "Sessions";

    /// <summary>How often clients should call Heartbeat; sent to them in connection.established.</summary>
    public double HeartbeatIntervalSeconds { get; set; } = 15;

    /// <summary>How often coalesced heartbeats are written, in one transaction.</summary>
    public double FlushIntervalSeconds { get; set; } = 2;

    /// <summary>A session whose last heartbeat is older than this is closed and its connection aborted.</summary>
    public double StaleTimeoutSeconds { get; set; } = 60;

    /// <summary>How often the reaper looks for stale sessions.</summary>
    public double ReaperIntervalSeconds { get; set; } = 5;

    /// <summary>Inactive sessions older than this are deleted (rows stay this long for audit).</summary>
    public double RetentionHours { get; set; } = 168;

    /// <summary>How often inactive sessions past retention are pruned.</summary>
    public double PruneIntervalMinutes { get; set; } = 10;

    /// <summary>How long a client told to close (admin, stale, shutdown) has before its connection is aborted.</summary>
    public double CloseGraceSeconds { get; set; } = 0.5;

    public TimeSpan HeartbeatInterval => TimeSpan.FromSeconds(HeartbeatIntervalSeconds);

    public TimeSpan FlushInterval => TimeSpan.FromSeconds(FlushIntervalSeconds);

    public TimeSpan StaleTimeout => TimeSpan.FromSeconds(StaleTimeoutSeconds);

    public TimeSpan ReaperInterval => TimeSpan.FromSeconds(ReaperIntervalSeconds);

    public TimeSpan Retention => TimeSpan.FromHours(RetentionHours);

    public TimeSpan PruneInterval => TimeSpan.FromMinutes(PruneIntervalMinutes);

    public TimeSpan CloseGrace => TimeSpan.FromSeconds(CloseGraceSeconds);
}

/// <summary>Refuses to start with settings that would reap healthy clients or never reap dead ones.</summary>
internal sealed class SessionLifetimeOptionsValidator : IValidateOptions<SessionLifetimeOptions>
{
    public ValidateOptionsResult Validate(string? name, SessionLifetimeOptions options)
    {
        var failures = new List<string>();
        if (options.HeartbeatIntervalSeconds <= 0 || options.FlushIntervalSeconds <= 0 || options.StaleTimeoutSeconds <= 0
            || options.ReaperIntervalSeconds <= 0 || options.RetentionHours <= 0 || options.PruneIntervalMinutes <= 0
            || options.CloseGraceSeconds < 0)
        {
            failures.Add("Sessions: every interval must be positive (e.g. HeartbeatIntervalSeconds=15, FlushIntervalSeconds=2, StaleTimeoutSeconds=60)");
        }

        if (options.FlushIntervalSeconds + options.HeartbeatIntervalSeconds >= options.StaleTimeoutSeconds)
        {
            failures.Add(
                $"Sessions: FlushIntervalSeconds ({options.FlushIntervalSeconds}) + HeartbeatIntervalSeconds ({options.HeartbeatIntervalSeconds}) "
                + $"must be less than StaleTimeoutSeconds ({options.StaleTimeoutSeconds}), or clients that beat on time are reaped; "
                + "e.g. 2 + 15 < 60");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
