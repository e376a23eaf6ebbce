using Microsoft.Extensions.Options;

namespace Gateway.Server.Sessions;

/// <summary>
/// Which connections refused for the connection limits get a session row: a user's first refusal, then at most one per
/// <c>Limits:RefusalRecordIntervalSeconds</c>. The refusals in between are counted and handed to the next recorded one.
/// At most <see cref="MaxTrackedUsers"/> users are remembered at once; past that, refusals of further users within the
/// interval get no row, so the rows written per interval stay bounded however many users are refused.
/// </summary>
internal sealed class RefusedConnections
{
    public const int MaxTrackedUsers = 1000;

    private readonly Dictionary<string, (long RecordedAt, int Unrecorded)> _byUser = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();
    private readonly IOptionsMonitor<LimitOptions> _limits;
    private readonly TimeProvider _time;

    public RefusedConnections(IOptionsMonitor<LimitOptions> limits, TimeProvider time)
    {
        _limits = limits;
        _time = time;
    }

    /// <summary>
    /// Whether this refusal of <paramref name="userKey"/> is recorded; when it is, <paramref name="unrecorded"/> is the
    /// number of the user's refusals since the previous recorded one that were not.
    /// </summary>
    public bool TryRecord(string userKey, out int unrecorded)
    {
        unrecorded = 0;
        var interval = _limits.CurrentValue.RefusalRecordInterval;
        if (interval <= TimeSpan.Zero)
        {
            return true;
        }

        var now = _time.GetTimestamp();
        lock (_gate)
        {
            if (_byUser.TryGetValue(userKey, out var last))
            {
                if (_time.GetElapsedTime(last.RecordedAt, now) < interval)
                {
                    _byUser[userKey] = (last.RecordedAt, last.Unrecorded + 1);
                    return false;
                }

                unrecorded = last.Unrecorded;
            }
            else if (_byUser.Count >= MaxTrackedUsers && !SweptRoom(now, interval))
            {
                return false;
            }

            _byUser[userKey] = (now, 0);
            return true;
        }
    }

    /// <summary>Forgets the users whose last record is older than the interval (their next refusal is recorded anyway).</summary>
    private bool SweptRoom(long now, TimeSpan interval)
    {
        foreach (var (user, last) in _byUser)
        {
            if (_time.GetElapsedTime(last.RecordedAt, now) >= interval)
            {
                _byUser.Remove(user);
            }
        }

        return _byUser.Count < MaxTrackedUsers;
    }
}
