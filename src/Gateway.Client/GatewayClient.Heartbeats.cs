using Gateway.Contracts;
using Microsoft.AspNetCore.SignalR.Client;

namespace Gateway.Client;

// Heartbeats on a timer while a session is open.
public sealed partial class GatewayClient
{
    /// <summary>Heartbeats on a timer for the current connection; called under <see cref="_gate"/>.</summary>
    private void StartHeartbeats(Run run, ConnectionEstablished established)
    {
        StopHeartbeats(run);
        var interval = _options.HeartbeatInterval ?? TimeSpan.FromSeconds(established.HeartbeatIntervalSeconds);
        if (interval == Timeout.InfiniteTimeSpan || interval <= TimeSpan.Zero)
        {
            return;
        }

        interval = TimeSpan.FromMilliseconds(Math.Min(interval.TotalMilliseconds, uint.MaxValue - 1));
        var stop = new CancellationTokenSource();
        run.Heartbeats = stop;
        _ = Task.Run(() => HeartbeatLoopAsync(run.Connection, interval, stop.Token));
    }

    /// <summary>Called under <see cref="_gate"/>; cancellation callbacks run on the thread pool, not under the lock.</summary>
    private static void StopHeartbeats(Run run)
    {
        if (run.Heartbeats is { } stop)
        {
            run.Heartbeats = null;
            _ = stop.CancelAsync();
        }
    }

    private async Task HeartbeatLoopAsync(HubConnection connection, TimeSpan interval, CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(interval);
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken))
            {
                try
                {
                    await connection.InvokeAsync<HeartbeatReply>(nameof(IGatewayHub.Heartbeat), cancellationToken);
                    Interlocked.Increment(ref _heartbeatsSent);
                }
                catch (Exception exception) when (!cancellationToken.IsCancellationRequested && exception is not OutOfMemoryException)
                {
                    // Ignored: a broken connection is SignalR's to notice and reconnect; a refused beat (rate limit) is retried next tick.
                    LogHeartbeatFailed(exception);
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }
}
