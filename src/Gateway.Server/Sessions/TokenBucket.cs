namespace Gateway.Server.Sessions;

/// <summary>
/// A token bucket refilled lazily from elapsed time. System.Threading.RateLimiting's TokenBucketRateLimiter
/// replenishes on a timer per limiter, which costs a timer per connection at thousands of connections;
/// this one costs two fields and a lock-free read of the clock on each take.
/// </summary>
internal sealed class TokenBucket
{
    private readonly double _ratePerTick;
    private readonly double _capacity;
    private readonly Lock _gate = new();
    private double _tokens;
    private long _lastTimestamp;

    public TokenBucket(double tokensPerSecond, int capacity, long nowTimestamp, long timestampFrequency)
    {
        _ratePerTick = tokensPerSecond / timestampFrequency;
        _capacity = capacity;
        _tokens = capacity;
        _lastTimestamp = nowTimestamp;
    }

    /// <summary>Takes one token; false when the bucket is empty.</summary>
    public bool TryTake(long nowTimestamp)
    {
        lock (_gate)
        {
            var elapsed = nowTimestamp - _lastTimestamp;
            if (elapsed > 0)
            {
                _tokens = Math.Min(_capacity, _tokens + (elapsed * _ratePerTick));
                _lastTimestamp = nowTimestamp;
            }

            if (_tokens < 1)
            {
                return false;
            }

            _tokens -= 1;
            return true;
        }
    }
}
