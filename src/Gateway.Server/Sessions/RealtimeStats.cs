namespace Gateway.Server.Sessions;

/// <summary>Counters of this node since it started, read by <c>GET /api/realtime/stats</c>.</summary>
internal sealed class RealtimeStats
{
    private long _messagesIn;
    private long _messagesOut;
    private long _heartbeatsReceived;
    private long _heartbeatBatches;
    private long _heartbeatRowsWritten;
    private long _largestHeartbeatBatch;
    private long _sessionWriteTransactions;
    private long _rateLimited;

    public long MessagesIn => Interlocked.Read(ref _messagesIn);

    public long MessagesOut => Interlocked.Read(ref _messagesOut);

    public long HeartbeatsReceived => Interlocked.Read(ref _heartbeatsReceived);

    /// <summary>Flushes that wrote at least one heartbeat: one transaction each.</summary>
    public long HeartbeatBatches => Interlocked.Read(ref _heartbeatBatches);

    public long HeartbeatRowsWritten => Interlocked.Read(ref _heartbeatRowsWritten);

    public long LargestHeartbeatBatch => Interlocked.Read(ref _largestHeartbeatBatch);

    /// <summary>Every transaction the session writer committed (opens, closes, heartbeats together).</summary>
    public long SessionWriteTransactions => Interlocked.Read(ref _sessionWriteTransactions);

    public long RateLimited => Interlocked.Read(ref _rateLimited);

    public void MessageIn() => Interlocked.Increment(ref _messagesIn);

    public void MessagesSent(long count) => Interlocked.Add(ref _messagesOut, count);

    public void HeartbeatReceived() => Interlocked.Increment(ref _heartbeatsReceived);

    public void RateLimitHit() => Interlocked.Increment(ref _rateLimited);

    public void TransactionCommitted(int heartbeatRows)
    {
        Interlocked.Increment(ref _sessionWriteTransactions);
        if (heartbeatRows == 0)
        {
            return;
        }

        Interlocked.Increment(ref _heartbeatBatches);
        Interlocked.Add(ref _heartbeatRowsWritten, heartbeatRows);
        long largest;
        while (heartbeatRows > (largest = Interlocked.Read(ref _largestHeartbeatBatch))
               && Interlocked.CompareExchange(ref _largestHeartbeatBatch, heartbeatRows, largest) != largest)
        {
        }
    }
}
