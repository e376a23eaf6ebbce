using System.Net;
using System.Net.Sockets;

namespace Gateway.Testing;

/// <summary>
/// A TCP forwarder on 127.0.0.1 between a client and a server, to cut every open connection at once: a real
/// transport failure, as a network drop gives, while the server stays up. New connections are forwarded again.
/// <see cref="StallTowardClients"/> stops passing the server's bytes on, as a client that stops reading does.
/// </summary>
public sealed class LoopbackProxy : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private Uri _target;
    private readonly CancellationTokenSource _stopping = new();
    private readonly List<TcpClient> _open = [];
    private readonly Lock _gate = new();
    private readonly Task _accepting;
    private TaskCompletionSource _flowing = NewFlowing(open: true);

    public LoopbackProxy(Uri target)
    {
        _target = target;
        _listener.Start();
        _accepting = AcceptAsync();
    }

    public Uri Address => new($"http://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}");

    /// <summary>Where new connections go: point it at a restarted server to keep the client's address.</summary>
    public Uri Target
    {
        get => Volatile.Read(ref _target);
        set => Volatile.Write(ref _target, value);
    }

    /// <summary>
    /// Stops forwarding what servers send until <see cref="ResumeTowardClients"/>: the server's socket buffers then
    /// fill and its writes wait, as with a client that no longer reads. Requests still flow to the server.
    /// </summary>
    public void StallTowardClients()
    {
        lock (_gate)
        {
            if (_flowing.Task.IsCompleted)
            {
                _flowing = NewFlowing(open: false);
            }
        }
    }

    public void ResumeTowardClients()
    {
        lock (_gate)
        {
            _flowing.TrySetResult();
        }
    }

    private static TaskCompletionSource NewFlowing(bool open)
    {
        var flowing = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        if (open)
        {
            flowing.SetResult();
        }

        return flowing;
    }

    /// <summary>While set, every new connection is reset at once, as a server behind a network that is down.</summary>
    public bool Refusing { get; set; }

    /// <summary>The network between the two ends goes down: open connections are reset and new ones refused until <see cref="Refusing"/> is cleared.</summary>
    public int CutOff()
    {
        Refusing = true;
        return DropAll();
    }

    /// <summary>Closes every forwarded connection (both sides) and returns how many there were.</summary>
    public int DropAll()
    {
        lock (_gate)
        {
            var count = _open.Count;
            foreach (var client in _open)
            {
                try
                {
                    // A reset, not a polite close: what a dropped network looks like to both ends.
                    client.Client?.LingerState = new LingerOption(true, 0);
                }
                catch (ObjectDisposedException)
                {
                    // Already closed by its pump.
                }

                client.Dispose();
            }

            _open.Clear();
            return count;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();
        _listener.Stop();
        DropAll();
        try
        {
            await _accepting;
        }
        catch (OperationCanceledException)
        {
        }

        _stopping.Dispose();
    }

    private async Task AcceptAsync()
    {
        while (!_stopping.IsCancellationRequested)
        {
            TcpClient inbound;
            try
            {
                inbound = await _listener.AcceptTcpClientAsync(_stopping.Token);
            }
            catch (Exception exception) when (exception is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }

            if (Refusing)
            {
                inbound.Client.LingerState = new LingerOption(true, 0);
                inbound.Dispose();
                continue;
            }

            // A small receive buffer toward the server, so that a stall backs up into the server after kilobytes,
            // not after the megabytes loopback autotuning would take.
            var outbound = new TcpClient { ReceiveBufferSize = 16 * 1024 };
            try
            {
                var target = Target;
                await outbound.ConnectAsync(target.Host, target.Port, _stopping.Token);
            }
            catch (Exception exception) when (exception is SocketException or OperationCanceledException)
            {
                inbound.Dispose();
                outbound.Dispose();
                continue;
            }

            lock (_gate)
            {
                _open.Add(inbound);
                _open.Add(outbound);
            }

            _ = PumpAsync(inbound, outbound, towardClient: false);
            _ = PumpAsync(outbound, inbound, towardClient: true);
        }
    }

    private async Task PumpAsync(TcpClient from, TcpClient to, bool towardClient)
    {
        var buffer = new byte[16 * 1024];
        try
        {
            var source = from.GetStream();
            var sink = to.GetStream();
            while (true)
            {
                if (towardClient)
                {
                    Task flowing;
                    lock (_gate)
                    {
                        flowing = _flowing.Task;
                    }

                    await flowing.WaitAsync(_stopping.Token);
                }

                var read = await source.ReadAsync(buffer);
                if (read == 0)
                {
                    break;
                }

                await sink.WriteAsync(buffer.AsMemory(0, read));
            }
        }
        catch (Exception exception) when (exception is IOException or ObjectDisposedException or SocketException or InvalidOperationException or OperationCanceledException)
        {
            // One side was cut: cut the other.
        }

        from.Dispose();
        to.Dispose();
    }
}
