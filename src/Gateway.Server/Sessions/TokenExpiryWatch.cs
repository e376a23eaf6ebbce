namespace Gateway.Server.Sessions;

/// <summary>
/// Finds the connections whose access token has expired, with one timer for the node instead of one per connection
/// (a timer and its state were about 200 bytes of every connection's heap in scenario c of the benchmarks). The
/// timer is armed for the earliest expiry among the live connections; when it fires, every live connection past its
/// expiry goes to the callback and the timer is armed for the next earliest. A firing scans the live connections
/// (a few microseconds per thousand), and firings are at least <see cref="MinimumInterval"/> apart: a node whose
/// clients' tokens expire moments apart scans four times a second at most, and acts on an expiry that much late at
/// most.
/// </summary>
internal sealed class TokenExpiryWatch : IDisposable
{
    public static readonly TimeSpan MinimumInterval = TimeSpan.FromMilliseconds(250);

    /// <summary>Below the longest period a timer accepts (2^32 - 2 ms); a later expiry is re-armed on the way.</summary>
    private static readonly TimeSpan MaxTimerDue = TimeSpan.FromDays(49);

    private readonly LiveConnections _live;
    private readonly TimeProvider _time;
    private readonly Action<LiveConnection> _expired;
    private readonly Lock _gate = new();
    private readonly ITimer _timer;
    private DateTimeOffset _armedFor = DateTimeOffset.MaxValue;
    private DateTimeOffset _lastFired = DateTimeOffset.MinValue;

    public TokenExpiryWatch(LiveConnections live, TimeProvider time, Action<LiveConnection> expired)
    {
        _live = live;
        _time = time;
        _expired = expired;
        _timer = time.CreateTimer(static state => ((TokenExpiryWatch)state!).Fire(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
    }

    /// <summary>A connection with this expiry was added to the live connections.</summary>
    public void Watch(DateTimeOffset expiry)
    {
        lock (_gate)
        {
            if (expiry < _armedFor)
            {
                Arm(expiry, spaced: true);
            }
        }
    }

    public void Dispose() => _timer.Dispose();

    private void Fire()
    {
        List<LiveConnection>? expired = null;
        lock (_gate)
        {
            var now = _time.GetUtcNow();
            // A timer may fire a little before the wall clock reaches its expiry: then the same expiry is armed
            // again as it is, not a whole interval later.
            var early = _armedFor > now;
            _lastFired = now;
            _armedFor = DateTimeOffset.MaxValue;
            var next = DateTimeOffset.MaxValue;
            foreach (var connection in _live.All)
            {
                if (connection.TokenExpiresAt is not { } expiry || connection.CloseReason is not null)
                {
                    continue;
                }

                if (expiry <= now)
                {
                    (expired ??= []).Add(connection);
                }
                else if (expiry < next)
                {
                    next = expiry;
                }
            }

            if (next != DateTimeOffset.MaxValue)
            {
                Arm(next, spaced: !early);
            }
        }

        foreach (var connection in expired ?? [])
        {
            _expired(connection);
        }
    }

    /// <param name="spaced">At least <see cref="MinimumInterval"/> after the last firing.</param>
    private void Arm(DateTimeOffset expiry, bool spaced)
    {
        _armedFor = expiry;
        var now = _time.GetUtcNow();
        var at = spaced && expiry < _lastFired + MinimumInterval ? _lastFired + MinimumInterval : expiry;
        var due = at - now;
        _timer.Change(due <= TimeSpan.Zero ? TimeSpan.Zero : due < MaxTimerDue ? due : MaxTimerDue, Timeout.InfiniteTimeSpan);
    }
}
