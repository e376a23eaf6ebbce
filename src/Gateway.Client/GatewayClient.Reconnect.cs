using System.Diagnostics;
using Gateway.Contracts;
using Microsoft.AspNetCore.SignalR.Client;

namespace Gateway.Client;

// The reconnects SignalR does not do: after a connection.closing notice with reconnect=true (the gateway's close message
// forbids SignalR's), and after a reconnect refused with a code that says to come back later.
public sealed partial class GatewayClient
{
    /// <summary>
    /// Reconnects a run the gateway closed while telling it to come back: the run's connection is started again with the
    /// delays of <paramref name="policy"/>, continuing the count of a SignalR reconnect this takes over, until a session is
    /// established, the policy gives up (<see cref="GatewayCloseCodes.ReconnectFailed"/>), the gateway refuses with a code
    /// that retrying cannot change, or the client is stopped.
    /// </summary>
    private async Task ReconnectByClientAsync(Run run, IRetryPolicy policy, Exception reason)
    {
        long attempts;
        long lostAt;
        lock (_gate)
        {
            if (run.Episode.LostAt == 0)
            {
                run.Episode.LostAt = Stopwatch.GetTimestamp();
            }

            attempts = run.Episode.Attempts;
            lostAt = run.Episode.LostAt;
        }

        var cancellation = run.Cancellation.Token;
        for (; ; attempts++)
        {
            var delay = policy.NextRetryDelay(new RetryContext
            {
                PreviousRetryCount = attempts,
                ElapsedTime = Stopwatch.GetElapsedTime(lostAt),
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
            catch (GatewayConnectException refused) when (!GatewayCloseCodes.ReconnectAdvised(refused.Code))
            {
                // Refused for a reason retrying cannot change (forbidden, say): stop, as SignalR does on any refusal.
                EndReconnect(run, refused.InnerException ?? refused, refused.Code);
                return;
            }
            catch (Exception exception) when (exception is not OutOfMemoryException)
            {
                reason = exception is GatewayConnectException { InnerException: { } inner } ? inner : exception;
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
