using Gateway.Contracts;

namespace Gateway.Server.Cluster;

/// <summary>
/// Whether this node serves: it does not while it stops (SIGTERM) or while it is cut off from the database. Readiness
/// reports it, new SignalR connections are refused with 503 (<see cref="NodeStandingMiddleware"/>), which a balancer
/// retries on another node.
/// </summary>
internal sealed class NodeStanding(TimeProvider time)
{
    private long _lastBeatTicks;
    private long _cutOffSinceTicks;
    private long _stoppingSinceTicks;

    /// <summary>When this node last reached the database through its registry row (claim or beat); null before.</summary>
    public DateTimeOffset? LastBeat => Read(ref _lastBeatTicks);

    /// <summary>Since when this node has been cut off from the database; null while it reaches it.</summary>
    public DateTimeOffset? CutOffSince => Read(ref _cutOffSinceTicks);

    /// <summary>Since when this node has been stopping; null while it runs.</summary>
    public DateTimeOffset? StoppingSince => Read(ref _stoppingSinceTicks);

    /// <summary>The code new connections are refused with, or null while the node serves.</summary>
    public string? Refusal => StoppingSince is not null ? HubErrorCodes.ServerShutdown : CutOffSince is not null ? HubErrorCodes.NodeUnavailable : null;

    public void Beaten() => Interlocked.Exchange(ref _lastBeatTicks, time.GetUtcNow().UtcTicks);

    /// <summary>Marks the node cut off; false when it already was.</summary>
    public bool CutOff() => Interlocked.CompareExchange(ref _cutOffSinceTicks, time.GetUtcNow().UtcTicks, 0) == 0;

    /// <summary>Marks the node as reaching the database again; false when it was not cut off.</summary>
    public bool Reconnected() => Interlocked.Exchange(ref _cutOffSinceTicks, 0) != 0;

    public void Stopping() => Interlocked.CompareExchange(ref _stoppingSinceTicks, time.GetUtcNow().UtcTicks, 0);

    private static DateTimeOffset? Read(ref long ticks) => Interlocked.Read(ref ticks) is var value and > 0 ? new DateTimeOffset(value, TimeSpan.Zero) : null;
}
