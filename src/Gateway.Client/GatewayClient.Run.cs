using System.Diagnostics;
using Gateway.Contracts;
using Microsoft.AspNetCore.SignalR.Client;

namespace Gateway.Client;

public sealed partial class GatewayClient
{
    /// <summary>One start of the client: its connection, across that connection's automatic reconnects.</summary>
    private sealed class Run(HubConnection connection, ReconnectEpisode episode)
    {
        public HubConnection Connection { get; } = connection;

        /// <summary>The attempts of the reconnect in progress, SignalR's and the client's own together.</summary>
        public ReconnectEpisode Episode { get; } = episode;

        public TaskCompletionSource<ConnectionEstablished> FirstEstablished { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        /// <summary>connection.established messages received: 0 while starting, 1 after the first, more after reconnects.</summary>
        public int Sessions { get; set; }

        public bool StopRequested { get; set; }

        public bool Reconnecting { get; set; }

        public bool Ended { get; set; }

        /// <summary>The notice received on the current connection, if any.</summary>
        public ConnectionClosing? Notice { get; set; }

        public CancellationTokenSource? Heartbeats { get; set; }

        /// <summary>Cancelled when the run ends or is stopped (ends a reconnect of the client's own).</summary>
        public CancellationTokenSource Cancellation { get; } = new();

        /// <summary>The client reconnects by itself (see <see cref="ReconnectByClientAsync"/>).</summary>
        public bool ReconnectingByClient { get; set; }

        /// <summary>The established message an attempt of that reconnect waits for.</summary>
        public TaskCompletionSource<ConnectionEstablished>? Attempt { get; set; }
    }

    /// <summary>
    /// Attempts of one reconnect, counted across SignalR's own reconnect and the client's (which may take over when the
    /// gateway refuses a reconnect with a code that says to come back), so the policy sees one sequence. Guarded by the gate.
    /// </summary>
    private sealed class ReconnectEpisode
    {
        /// <summary>Attempts made (or about to be made) since the connection was lost.</summary>
        public long Attempts { get; set; }

        /// <summary>When the connection was lost (a <see cref="Stopwatch"/> timestamp); 0 while connected.</summary>
        public long LostAt { get; set; }

        public void Reset()
        {
            Attempts = 0;
            LostAt = 0;
        }
    }

    /// <summary>The configured policy, recording in the run's episode what SignalR's reconnect has done.</summary>
    private sealed class EpisodeRetryPolicy(IRetryPolicy inner, ReconnectEpisode episode, object gate) : IRetryPolicy
    {
        public TimeSpan? NextRetryDelay(RetryContext retryContext)
        {
            var delay = inner.NextRetryDelay(retryContext);
            lock (gate)
            {
                if (episode.LostAt == 0)
                {
                    episode.LostAt = Stopwatch.GetTimestamp() - (long)(retryContext.ElapsedTime.TotalSeconds * Stopwatch.Frequency);
                }

                episode.Attempts = retryContext.PreviousRetryCount + (delay is null ? 0 : 1);
            }

            return delay;
        }
    }
}
