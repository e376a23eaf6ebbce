using System.Diagnostics;
using Gateway.Contracts;
using Microsoft.AspNetCore.SignalR.Client;

namespace Gateway.Client;

// The reconnect SignalR does not do: after a connection.closing notice with reconnect=true the gateway's close message forbids it.
public sealed partial class GatewayClient
{
    /// <summary>
    /// Reconnects a run the gateway closed after telling it to come back: the run's connection is started again with the
    /// delays of <paramref name="policy"/>, until a session is established, the policy gives up, the gateway refuses with a
    /// code, or the client is stopped.
    /// </summary>
    private async Task ReconnectAfterNoticeAsync(Run run, IRetryPolicy policy, Exception reason)
    {
        var started = Stopwatch.GetTimestamp();
        var cancellation = run.Cancellation.Token;
        for (var attempts = 0; ; attempts++)
        {
            var delay = policy.NextRetryDelay(new RetryContext
            {
                PreviousRetryCount = attempts,
                ElapsedTime = Stopwatch.GetElapsedTime(started),
                RetryReason = reason,
            });
            if (delay is null)
            {
                EndReconnect(run, reason, GatewayCloseCodes.ReconnectFailed);
                return;
            }

            var attempt = new TaskCompletionSource<ConnectionEstablished>(TaskCreationOptions.RunContinuationsAsynchronously);
            try
            {
                await Task.Delay(delay.Value, cancellation);
                lock (_gate)
                {
                    if (run.Ended || run.StopRequested)
                    {
                        return;
                    }

                    run.Attempt = attempt;
                }

                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
                if (_options.ConnectTimeout != Timeout.InfiniteTimeSpan)
                {
                    timeout.CancelAfter(_options.ConnectTimeout);
                }

                await run.Connection.StartAsync(timeout.Token);
                await attempt.Task.WaitAsync(timeout.Token);
                return;
            }
            catch (OperationCanceledException) when (cancellation.IsCancellationRequested)
            {
                // Stopped: StopAsync ends the run.
                return;
            }
            catch (GatewayConnectException refused) when (refused.Code != GatewayCloseCodes.TransportError)
            {
                // The gateway answered, with a reason: what SignalR does when a reconnect is refused, stop.
                EndReconnect(run, refused.InnerException ?? refused, refused.Code);
                return;
            }
            catch (Exception exception) when (exception is not OutOfMemoryException)
            {
                reason = exception;
                LogReconnectAttemptFailed(exception, attempts + 1);
                await StopQuietlyAsync(run.Connection);
            }
        }
    }

    private void EndReconnect(Run run, Exception reason, string code)
    {
        GatewayCloseReason? closed;
        lock (_gate)
        {
            if (run.Ended || run.StopRequested || !TryEnd(run, reason, out closed, code))
            {
                return;
            }
        }

        LogClosed(closed.Code, closed.SessionId);
        Raise(Closed, closed);
    }
}
