using Gateway.Contracts;
using Microsoft.AspNetCore.SignalR.Client;

namespace Gateway.Client;

public sealed partial class GatewayClient
{
    /// <summary>One start of the client: its connection, across that connection's automatic reconnects.</summary>
    private sealed class Run(HubConnection connection)
    {
        public HubConnection Connection { get; } = connection;

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

        /// <summary>The client reconnects by itself, after a notice with reconnect=true and SignalR's plain close.</summary>
        public bool ReconnectingAfterNotice { get; set; }

        /// <summary>The established message an attempt of that reconnect waits for.</summary>
        public TaskCompletionSource<ConnectionEstablished>? Attempt { get; set; }
    }
}
