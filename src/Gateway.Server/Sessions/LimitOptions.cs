using Microsoft.Extensions.Options;

namespace Gateway.Server.Sessions;

/// <summary>Limits per node. Bound from the "Limits" section. 0 means no limit where noted.</summary>
public sealed class LimitOptions
{
    public const string SectionName = "Limits";

    /// <summary>Largest message a client may send; a larger one closes its connection (SignalR's MaximumReceiveMessageSize).</summary>
    public long MaxMessageBytes { get; set; } = 64 * 1024;

    /// <summary>Largest REST request body; a larger one is refused with 413 (Kestrel's MaxRequestBodySize).</summary>
    public long MaxRequestBodyBytes { get; set; } = 2 * 1024 * 1024;

    /// <summary>Open connections on this node, all users together (the orchestrator planned a pool of 1,000; nodes here are sized for more).</summary>
    public int MaxConnections { get; set; } = 10_000;

    /// <summary>Open connections of one user on this node.</summary>
    public int MaxConnectionsPerUser { get; set; } = 100;

    /// <summary>
    /// A connection refused for <see cref="MaxConnections"/> or <see cref="MaxConnectionsPerUser"/> is recorded as an
    /// inactive session row, at most once per user in this many seconds; the attempts in between are counted in the
    /// next recorded row's <c>unrecordedRefusals</c> (a client retrying in a loop cannot grow the table without bound).
    /// 0: every refused attempt is recorded.
    /// </summary>
    public double RefusalRecordIntervalSeconds { get; set; } = 60;

    public TimeSpan RefusalRecordInterval => TimeSpan.FromSeconds(RefusalRecordIntervalSeconds);

    /// <summary>Token bucket per connection: invocations refilled per second (the orchestrator planned 100/s). 0: no limit.</summary>
    public double InvocationsPerSecond { get; set; } = 100;

    /// <summary>Token bucket capacity: how many invocations may arrive at once after a quiet spell.</summary>
    public int InvocationBurst { get; set; } = 200;

    /// <summary>
    /// Hub invocations of one connection that run at once (SignalR's MaximumParallelInvocationsPerClient); more wait
    /// in the connection. They start in the order they arrive and each reaches the change writer's queue before the next
    /// starts, so a client may pipeline changes (compare-and-set ones too) and they commit in that order; answers can
    /// come back in any order, and a read sent before a change's answer may run before it commits. At 1 (SignalR's
    /// default) each waits for the commit of the one before: an orchestrator on one connection then made one change per
    /// commit round trip, which capped scenario a of the benchmarks.
    /// </summary>
    public int MaxParallelInvocationsPerConnection { get; set; } = 16;
}

internal sealed class LimitOptionsValidator : IValidateOptions<LimitOptions>
{
    public ValidateOptionsResult Validate(string? name, LimitOptions options)
    {
        var failures = new List<string>();
        if (options.MaxMessageBytes < 1024)
        {
            failures.Add($"Limits:MaxMessageBytes must be at least 1024 (e.g. 65536), not {options.MaxMessageBytes}");
        }

        if (options.MaxRequestBodyBytes < 1024)
        {
            failures.Add($"Limits:MaxRequestBodyBytes must be at least 1024 (e.g. 2097152), not {options.MaxRequestBodyBytes}");
        }

        if (options.MaxConnections < 1 || options.MaxConnectionsPerUser < 1)
        {
            failures.Add("Limits:MaxConnections and Limits:MaxConnectionsPerUser must be at least 1 (e.g. 10000 and 100)");
        }

        if (options.RefusalRecordIntervalSeconds is < 0 or > 3600 || double.IsNaN(options.RefusalRecordIntervalSeconds))
        {
            failures.Add($"Limits:RefusalRecordIntervalSeconds must be 0 (record every refused connection) to 3600 (e.g. 60), not {options.RefusalRecordIntervalSeconds}");
        }

        if (options.InvocationsPerSecond < 0 || (options.InvocationsPerSecond > 0 && options.InvocationBurst < 1))
        {
            failures.Add("Limits:InvocationsPerSecond must be 0 (no limit) or positive with InvocationBurst at least 1 (e.g. 100 and 200)");
        }

        if (options.MaxParallelInvocationsPerConnection is < 1 or > 1024)
        {
            failures.Add($"Limits:MaxParallelInvocationsPerConnection must be 1 to 1024 (e.g. 16), not {options.MaxParallelInvocationsPerConnection}");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
