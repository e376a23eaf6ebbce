using System.Buffers;
using System.Net.WebSockets;
using System.Text;
using Gateway.Contracts;
using MessagePack;
using MessagePack.Resolvers;

namespace Gateway.Bench;

/// <summary>
/// A subscriber of scenario a that speaks SignalR's MessagePack hub protocol over a bare <see cref="ClientWebSocket"/>:
/// it counts <c>EventReceived</c> invocations without deserialising them. The full SignalR client cost the generator
/// ~16 µs per delivery, so one generator core saturated near 60,000 deliveries/s, below B1's ceiling; both servers
/// see exactly what a SignalR client sends (handshake, Subscribe, Heartbeat) and answer with the same frames.
/// </summary>
internal sealed class RawSubscriber : IAsyncDisposable
{
    private static readonly MessagePackSerializerOptions Arguments = ContractlessStandardResolver.Options;
    private static readonly byte[] EventReceived = Encoding.UTF8.GetBytes(nameof(IGatewayClient.EventReceived));
    private static readonly byte[] ConnectionEstablished = Encoding.UTF8.GetBytes(nameof(IGatewayClient.ConnectionEstablished));

    private readonly ClientWebSocket _socket = new();
    private static long s_frames;

    private readonly Action _onEvent;
    private readonly TaskCompletionSource _established = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Dictionary<string, TaskCompletionSource> _pending = [];
    private readonly SemaphoreSlim _sendLock = new(1, 1);
    private readonly CancellationTokenSource _stop = new();
    private Task _receiving = Task.CompletedTask;
    private int _nextId;

    private RawSubscriber(Action onEvent)
    {
        _onEvent = onEvent;
    }

    /// <summary>Connects (no negotiation, as the SignalR clients of the bench) and waits for ConnectionEstablished.</summary>
    /// <summary>
    /// WebSocket messages received by every subscriber of the process so far. A server that finds several SignalR
    /// messages waiting in a connection's pipe sends them in one WebSocket message, so deliveries per frame above 1
    /// shows its transport coalescing sends (one syscall for several events), which it does once its sends fall behind.
    /// </summary>
    public static long Frames => Interlocked.Read(ref s_frames);

    public static async Task<RawSubscriber> ConnectAsync(Uri server, string? accessToken, Action onEvent)
    {
        var subscriber = new RawSubscriber(onEvent);
        var url = new UriBuilder(new Uri(server, GatewayRoutes.Hub)) { Scheme = server.Scheme == "https" ? "wss" : "ws" };
        if (accessToken is not null)
        {
            url.Query = "access_token=" + Uri.EscapeDataString(accessToken);
        }

        await subscriber._socket.ConnectAsync(url.Uri, CancellationToken.None);
        await subscriber._socket.SendAsync("{\"protocol\":\"messagepack\",\"version\":1}\u001e"u8.ToArray(), WebSocketMessageType.Text, true, CancellationToken.None);
        var first = await subscriber.ReadHandshakeAsync();
        subscriber._receiving = Task.Run(() => subscriber.ReceiveLoopAsync(first));
        await subscriber._established.Task.WaitAsync(TimeSpan.FromSeconds(60));
        return subscriber;
    }

    /// <summary>Invokes a hub method and waits for its completion (the result is not read; an error fails the call).</summary>
    public async Task InvokeAsync(string target, params object?[] args)
    {
        var completion = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        string id;
        lock (_pending)
        {
            id = (++_nextId).ToString(System.Globalization.CultureInfo.InvariantCulture);
            _pending[id] = completion;
        }

        await SendAsync(Invocation(id, target, args));
        await completion.Task.WaitAsync(TimeSpan.FromSeconds(60));
    }

    /// <summary>Invokes a hub method without waiting for (or asking for) an answer.</summary>
    public Task SendAsync(string target, params object?[] args) => SendAsync(Invocation(null, target, args));

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        try
        {
            await _socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None);
        }
        catch (Exception exception) when (exception is WebSocketException or ObjectDisposedException or InvalidOperationException)
        {
            // Already closed by the server.
        }

        try
        {
            await _receiving.WaitAsync(TimeSpan.FromSeconds(5));
        }
        catch (Exception exception) when (exception is TimeoutException or OperationCanceledException or WebSocketException)
        {
            // Gone either way.
        }

        _socket.Dispose();
        _stop.Dispose();
        _sendLock.Dispose();
    }

    private static byte[] Invocation(string? id, string target, object?[] args)
    {
        var body = new ArrayBufferWriter<byte>();
        var writer = new MessagePackWriter(body);
        writer.WriteArrayHeader(id is null ? 5 : 6);
        writer.Write(1); // Invocation
        writer.WriteMapHeader(0); // headers
        if (id is null)
        {
            writer.WriteNil();
        }
        else
        {
            writer.Write(id);
        }

        writer.Write(target);
        writer.WriteArrayHeader(args.Length);
        foreach (var arg in args)
        {
            MessagePackSerializer.Serialize(arg?.GetType() ?? typeof(object), ref writer, arg, Arguments);
        }

        if (id is not null)
        {
            writer.WriteArrayHeader(0); // stream ids
        }

        writer.Flush();
        // Length-prefixed (7-bit varint), as SignalR's binary framing.
        var frame = new ArrayBufferWriter<byte>();
        var length = body.WrittenCount;
        do
        {
            var b = (byte)(length & 0x7f);
            length >>= 7;
            frame.GetSpan(1)[0] = length > 0 ? (byte)(b | 0x80) : b;
            frame.Advance(1);
        }
        while (length > 0);
        frame.Write(body.WrittenSpan);
        return frame.WrittenSpan.ToArray();
    }

    private async Task SendAsync(byte[] frame)
    {
        await _sendLock.WaitAsync();
        try
        {
            await _socket.SendAsync(frame, WebSocketMessageType.Binary, true, CancellationToken.None);
        }
        finally
        {
            _sendLock.Release();
        }
    }

    /// <summary>Reads the handshake answer; returns what came after it in the same receive (the first messages).</summary>
    private async Task<byte[]> ReadHandshakeAsync()
    {
        var buffer = new byte[1024];
        var received = 0;
        while (Array.IndexOf(buffer, (byte)0x1e, 0, received) < 0)
        {
            var result = await _socket.ReceiveAsync(buffer.AsMemory(received), CancellationToken.None);
            if (result.MessageType == WebSocketMessageType.Close)
            {
                throw new InvalidOperationException($"the server closed during the handshake: {_socket.CloseStatusDescription}");
            }

            received += result.Count;
        }

        var end = Array.IndexOf(buffer, (byte)0x1e, 0, received);
        var response = Encoding.UTF8.GetString(buffer, 0, end);
        if (response.Contains("\"error\"", StringComparison.Ordinal))
        {
            throw new InvalidOperationException("handshake refused: " + response);
        }

        return buffer[(end + 1)..received];
    }

    private async Task ReceiveLoopAsync(byte[] first)
    {
        var buffer = new byte[64 * 1024];
        first.CopyTo(buffer, 0);
        var filled = first.Length;
        try
        {
            filled -= Consume(buffer, filled);
            while (!_stop.IsCancellationRequested)
            {
                if (filled == buffer.Length)
                {
                    Array.Resize(ref buffer, buffer.Length * 2);
                }

                var result = await _socket.ReceiveAsync(buffer.AsMemory(filled), _stop.Token);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    break;
                }

                if (result.EndOfMessage)
                {
                    Interlocked.Increment(ref s_frames);
                }

                filled += result.Count;
                filled -= Consume(buffer, filled);
            }
        }
        catch (Exception exception) when (exception is OperationCanceledException or WebSocketException)
        {
            // Closed.
        }
        finally
        {
            _established.TrySetException(new InvalidOperationException("the connection closed before ConnectionEstablished"));
            lock (_pending)
            {
                foreach (var pending in _pending.Values)
                {
                    pending.TrySetException(new InvalidOperationException("the connection closed"));
                }

                _pending.Clear();
            }
        }
    }

    /// <summary>Handles the whole messages at the start of the buffer and moves what is left to its start.</summary>
    private int Consume(byte[] buffer, int filled)
    {
        var consumed = Parse(buffer.AsMemory(0, filled));
        if (consumed > 0)
        {
            Buffer.BlockCopy(buffer, consumed, buffer, 0, filled - consumed);
        }

        return consumed;
    }

    /// <summary>Handles every whole message in <paramref name="data"/>; returns the bytes consumed.</summary>
    private int Parse(ReadOnlyMemory<byte> data)
    {
        var offset = 0;
        while (true)
        {
            var length = 0;
            var shift = 0;
            var prefix = 0;
            while (true)
            {
                if (offset + prefix >= data.Length)
                {
                    return offset;
                }

                var b = data.Span[offset + prefix++];
                length |= (b & 0x7f) << shift;
                shift += 7;
                if ((b & 0x80) == 0)
                {
                    break;
                }
            }

            if (offset + prefix + length > data.Length)
            {
                return offset;
            }

            Handle(data.Slice(offset + prefix, length));
            offset += prefix + length;
        }
    }

    private void Handle(ReadOnlyMemory<byte> message)
    {
        var reader = new MessagePackReader(message);
        reader.ReadArrayHeader();
        switch (reader.ReadInt32())
        {
            case 1: // Invocation: [1, headers, invocationId, target, arguments, ...]
                reader.Skip();
                reader.Skip();
                reader.TryReadStringSpan(out var target);
                if (target.SequenceEqual(EventReceived))
                {
                    _onEvent();
                }
                else if (target.SequenceEqual(ConnectionEstablished))
                {
                    _established.TrySetResult();
                }

                break;
            case 3: // Completion: [3, headers, invocationId, resultKind, result?]
                reader.Skip();
                var id = reader.ReadString()!;
                var kind = reader.ReadInt32();
                TaskCompletionSource? completion;
                lock (_pending)
                {
                    _pending.Remove(id, out completion);
                }

                if (kind == 1)
                {
                    completion?.TrySetException(new InvalidOperationException("hub error: " + reader.ReadString()));
                }
                else
                {
                    completion?.TrySetResult();
                }

                break;
            default:
                // Ping (6), Close (7) and anything else: nothing to do.
                break;
        }
    }
}
