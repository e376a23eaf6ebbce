using System.Net.WebSockets;
using System.Text;

namespace Gateway.Bench.Baselines;

/// <summary>B0: Kestrel and WebSockets only. Sends "hello" on accept, echoes what it receives; the floor under B1.</summary>
internal static class BareWebSocket
{
    private static readonly byte[] Hello = Encoding.UTF8.GetBytes("hello");

    public static async Task<int> RunAsync(string[] args)
    {
        var builder = WebApplication.CreateSlimBuilder(args);
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        var app = builder.Build();
        app.UseWebSockets();
        app.MapGet("/health/live", () => "ok");
        app.Map("/ws", async (HttpContext http) =>
        {
            if (!http.WebSockets.IsWebSocketRequest)
            {
                http.Response.StatusCode = StatusCodes.Status400BadRequest;
                return;
            }

            using var socket = await http.WebSockets.AcceptWebSocketAsync();
            await EchoAsync(socket, http.RequestAborted);
        });
        await app.RunAsync();
        return 0;
    }

    private static async Task EchoAsync(WebSocket socket, CancellationToken cancellationToken)
    {
        try
        {
            await socket.SendAsync(Hello, WebSocketMessageType.Text, endOfMessage: true, cancellationToken);
            var buffer = new byte[1024];
            while (true)
            {
                var received = await socket.ReceiveAsync(buffer.AsMemory(), cancellationToken);
                if (received.MessageType == WebSocketMessageType.Close)
                {
                    await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None);
                    return;
                }

                await socket.SendAsync(buffer.AsMemory(0, received.Count), received.MessageType, received.EndOfMessage, cancellationToken);
            }
        }
        catch (Exception exception) when (exception is WebSocketException or OperationCanceledException)
        {
            // The client went away: nothing to do for a baseline.
        }
    }
}
