using Gateway.Contracts;
using Microsoft.AspNetCore.Http.Connections;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.DependencyInjection;

namespace Gateway.Testing;

/// <summary>Raw SignalR clients (the official .NET client, no Gateway client library) on a test server.</summary>
public static class TestHubConnections
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(15);

    /// <summary>
    /// A hub connection, not started, that records connection.established and connection.closing;
    /// <paramref name="through"/> is a proxy's address to connect through (e.g. a <see cref="LoopbackProxy"/>).
    /// </summary>
    public static TestHubClient CreateClient(
        this GatewayTestServer server,
        string? token,
        HttpTransportType transport = HttpTransportType.WebSockets,
        bool messagePack = false,
        string? clientId = null,
        Uri? through = null)
    {
        var hub = through is null ? server.HubUrl : new Uri(through, server.HubUrl.AbsolutePath);
        var url = clientId is null ? hub : new Uri(hub + "?clientId=" + Uri.EscapeDataString(clientId));
        var builder = new HubConnectionBuilder().WithUrl(url, transport, options =>
        {
            if (token is not null)
            {
                options.AccessTokenProvider = () => Task.FromResult<string?>(token);
            }

            options.SkipNegotiation = false;
        });
        if (messagePack)
        {
            builder.AddMessagePackProtocol();
        }

        return new TestHubClient(builder.Build());
    }
}

/// <summary>A started-or-not hub connection with the gateway's first events captured.</summary>
public sealed class TestHubClient : IAsyncDisposable
{
    private readonly TaskCompletionSource<ConnectionEstablished> _established = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource<ConnectionClosing> _closing = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource<Exception?> _closed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public TestHubClient(HubConnection connection)
    {
        Connection = connection;
        connection.On<ConnectionEstablished>(nameof(IGatewayClient.ConnectionEstablished), e => _established.TrySetResult(e));
        connection.On<ConnectionClosing>(nameof(IGatewayClient.ConnectionClosing), e => _closing.TrySetResult(e));
        connection.Closed += exception =>
        {
            _closed.TrySetResult(exception);
            return Task.CompletedTask;
        };
    }

    public HubConnection Connection { get; }

    public Task<ConnectionEstablished> Established => _established.Task.WaitAsync(TestHubConnections.Timeout);

    public Task<ConnectionClosing> Closing => _closing.Task.WaitAsync(TestHubConnections.Timeout);

    /// <summary>Completes when the connection closed, with the error it closed with (null when clean).</summary>
    public Task<Exception?> Closed => _closed.Task.WaitAsync(TestHubConnections.Timeout);

    /// <summary>Starts and waits for connection.established.</summary>
    public async Task<ConnectionEstablished> StartAsync()
    {
        await Connection.StartAsync().WaitAsync(TestHubConnections.Timeout);
        return await Established;
    }

    public ValueTask DisposeAsync() => Connection.DisposeAsync();
}
