using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Gateway.Testing;

/// <summary>What <see cref="CommitCuttingProxy"/> does to the next COMMIT of a transaction that took the event log's lock.</summary>
public enum CommitCut
{
    /// <summary>The COMMIT reaches PostgreSQL, which commits; its answer never reaches the client, whose connection is cut.</summary>
    LoseAnswer,

    /// <summary>
    /// The COMMIT never reaches PostgreSQL; the client's connection is cut, the server's is kept open, as a cut
    /// network leaves it: the backend stays idle in its transaction, holding the log's lock.
    /// </summary>
    LoseCommit,
}

/// <summary>
/// A TCP proxy between a gateway and PostgreSQL (plain protocol, no TLS: the test cluster has none) that cuts a
/// connection at the one moment a client cannot tell what happened: while the event log's transaction commits. It
/// reads the client's bytes only to find that moment: the log's lock (its SQL names <c>gateway.events</c>) and then a
/// simple-query <c>COMMIT</c> on the same connection.
/// </summary>
public sealed class CommitCuttingProxy : IAsyncDisposable
{
    private static readonly byte[] LockMarker = Encoding.ASCII.GetBytes("gateway.events");
    private static readonly byte[] CommitMarker = Encoding.ASCII.GetBytes("COMMIT\0");
    private static readonly byte[] RollbackMarker = Encoding.ASCII.GetBytes("ROLLBACK\0");

    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly string _upstreamHost;
    private readonly int _upstreamPort;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Socket> _orphans = [];
    private readonly Task _accepting;
    private readonly System.Collections.Concurrent.ConcurrentDictionary<Socket, byte> _clients = new();
    private int _armed = -1;
    private bool _thenUnreachable;
    private byte[]? _mark;
    private int _cuts;

    public CommitCuttingProxy(string upstreamHost, int upstreamPort)
    {
        _upstreamHost = upstreamHost;
        _upstreamPort = upstreamPort;
        _listener.Start();
        _accepting = AcceptAsync();
    }

    /// <summary>The proxy's port on 127.0.0.1.</summary>
    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    /// <summary><paramref name="url"/> (sqlx's form) with the proxy in place of the server.</summary>
    public string Through(string url)
    {
        var uri = new UriBuilder(url) { Host = "127.0.0.1", Port = Port };
        return uri.Uri.ToString();
    }

    /// <summary>While set, every new connection is closed at once, as a server that cannot be reached.</summary>
    public bool RefuseConnections { get; set; }

    /// <summary>Connections cut so far.</summary>
    public int Cuts => Volatile.Read(ref _cuts);

    /// <summary>
    /// Cuts the next log commit (once). <paramref name="thenUnreachable"/>: at that moment every other connection is
    /// cut too and new ones refused (<see cref="RefuseConnections"/>), as a server gone with the network.
    /// <paramref name="mark"/>: only a transaction that sent this text (a value of the test's change, sent as UTF-8)
    /// is cut, never one of the gateway's own that takes the lock meanwhile (retention, a session announcement).
    /// </summary>
    public void Arm(CommitCut cut, bool thenUnreachable = false, string? mark = null)
    {
        _thenUnreachable = thenUnreachable;
        _mark = mark is null ? null : Encoding.UTF8.GetBytes(mark);
        Volatile.Write(ref _armed, (int)cut);
    }

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await _listener.AcceptSocketAsync(_stop.Token);
            }
            catch (Exception exception) when (exception is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }

            if (RefuseConnections)
            {
                Abort(client);
                continue;
            }

            _ = RelayAsync(client);
        }
    }

    private async Task RelayAsync(Socket client)
    {
        var server = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            await server.ConnectAsync(_upstreamHost, _upstreamPort, _stop.Token);
        }
        catch (Exception exception) when (exception is SocketException or OperationCanceledException)
        {
            Abort(client);
            server.Dispose();
            return;
        }

        _clients[client] = 0;
        var answers = new TaskCompletionSource();
        var answering = PumpAnswersAsync(server, client, answers.Task);
        var buffer = new byte[64 * 1024];
        var locked = false;
        var marked = false;
        try
        {
            while (true)
            {
                var read = await client.ReceiveAsync(buffer, SocketFlags.None, _stop.Token);
                if (read == 0)
                {
                    break;
                }

                var chunk = buffer.AsSpan(0, read);
                if (chunk.IndexOf(RollbackMarker) >= 0)
                {
                    // A transaction rolled back: the next one on this connection (maybe not the log's) starts unlocked.
                    locked = marked = false;
                }

                locked |= chunk.IndexOf(LockMarker) >= 0;
                marked |= locked && (Volatile.Read(ref _mark) is not { } mark || chunk.IndexOf(mark) >= 0);
                if (locked && chunk.IndexOf(CommitMarker) >= 0)
                {
                    var wanted = marked;
                    locked = marked = false;
                    var cut = wanted ? Interlocked.Exchange(ref _armed, -1) : -1;
                    if (cut >= 0)
                    {
                        Interlocked.Increment(ref _cuts);
                        answers.TrySetResult(); // the server's answers are no longer relayed
                        if (_thenUnreachable)
                        {
                            RefuseConnections = true;
                            foreach (var other in _clients.Keys.Where(other => other != client))
                            {
                                Abort(other);
                            }
                        }

                        if ((CommitCut)cut == CommitCut.LoseAnswer)
                        {
                            await server.SendAsync(buffer.AsMemory(0, read), SocketFlags.None);
                            // Time for the server to commit and answer, into the void.
                            await Task.Delay(300);
                            Abort(client);
                            server.Dispose();
                        }
                        else
                        {
                            Abort(client);
                            lock (_orphans)
                            {
                                _orphans.Add(server);
                            }
                        }

                        return;
                    }
                }

                await server.SendAsync(buffer.AsMemory(0, read), SocketFlags.None);
            }
        }
        catch (Exception exception) when (exception is SocketException or OperationCanceledException or ObjectDisposedException)
        {
        }
        finally
        {
            _clients.TryRemove(client, out _);
        }

        Abort(client);
        server.Dispose();
        await answering;
    }

    private static async Task PumpAnswersAsync(Socket server, Socket client, Task cut)
    {
        var buffer = new byte[64 * 1024];
        try
        {
            while (true)
            {
                var read = await server.ReceiveAsync(buffer, SocketFlags.None);
                if (read == 0 || cut.IsCompleted)
                {
                    break;
                }

                await client.SendAsync(buffer.AsMemory(0, read), SocketFlags.None);
            }
        }
        catch (Exception exception) when (exception is SocketException or ObjectDisposedException)
        {
        }

        if (!cut.IsCompleted)
        {
            Abort(client);
        }
    }

    /// <summary>Closes with a reset, as a connection lost to the network rather than closed by its end.</summary>
    private static void Abort(Socket socket)
    {
        try
        {
            socket.LingerState = new LingerOption(true, 0);
        }
        catch (Exception exception) when (exception is SocketException or ObjectDisposedException)
        {
        }

        socket.Dispose();
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        await _accepting;
        lock (_orphans)
        {
            foreach (var orphan in _orphans)
            {
                orphan.Dispose();
            }
        }

        _stop.Dispose();
    }
}
