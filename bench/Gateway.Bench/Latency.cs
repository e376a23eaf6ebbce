using HdrHistogram;

namespace Gateway.Bench;

/// <summary>
/// A latency histogram in microseconds (HdrHistogram, 3 significant digits, up to 10 minutes), safe to record from
/// many threads. Latencies are measured from the intended send time of an open-loop schedule, so a stalled server
/// shows up as the queueing it causes (no coordinated omission).
/// </summary>
internal sealed class Latency
{
    private readonly Lock _gate = new();
    private readonly LongHistogram _histogram = new(600_000_000, 3);

    public long Count
    {
        get
        {
            lock (_gate)
            {
                return _histogram.TotalCount;
            }
        }
    }

    public void RecordTicks(long stopwatchTicks)
    {
        var micros = Math.Clamp(stopwatchTicks * 1_000_000 / System.Diagnostics.Stopwatch.Frequency, 1, 600_000_000);
        lock (_gate)
        {
            _histogram.RecordValue(micros);
        }
    }

    /// <summary>The value at a percentile, in milliseconds; NaN when nothing was recorded.</summary>
    public double Milliseconds(double percentile)
    {
        lock (_gate)
        {
            return _histogram.TotalCount == 0 ? double.NaN : _histogram.GetValueAtPercentile(percentile) / 1000.0;
        }
    }

    public double MaxMilliseconds
    {
        get
        {
            lock (_gate)
            {
                return _histogram.TotalCount == 0 ? double.NaN : _histogram.GetMaxValue() / 1000.0;
            }
        }
    }

    /// <summary>Adds what <paramref name="other"/> recorded.</summary>
    public void Add(Latency other)
    {
        lock (other._gate)
        {
            lock (_gate)
            {
                _histogram.Add(other._histogram);
            }
        }
    }

    public LatencySummary Summary() => new(Count, Milliseconds(50), Milliseconds(99), Milliseconds(99.9), MaxMilliseconds);
}

internal sealed record LatencySummary(long Count, double P50, double P99, double P999, double Max);
