using System.Net;
using System.Net.Sockets;
using Gateway.Client.Tests.Infrastructure;

namespace Gateway.Client.Tests;

/// <summary>A gateway that never answers: the start gives up after ConnectTimeout, or when the caller cancels.</summary>
public sealed class ConnectTimeoutTests : IDisposable
{
    // Accepts TCP connections (the kernel's backlog does) and never answers them.
    private readonly TcpListener _silent = new(IPAddress.Loopback, 0);

    public ConnectTimeoutTests() => _silent.Start();

    private Uri Url => new($"http://127.0.0.1:{((IPEndPoint)_silent.LocalEndpoint).Port}");

    public void Dispose() => _silent.Dispose();

    [Fact]
    public async Task A_start_without_an_answer_fails_with_connect_timeout()
    {
        await using var client = new GatewayClient(new GatewayClientOptions { Url = Url, ConnectTimeout = TimeSpan.FromSeconds(1) });

        var failure = await Assert.ThrowsAsync<GatewayConnectException>(client.StartWithTimeoutAsync);

        Assert.Equal(GatewayCloseCodes.ConnectTimeout, failure.Code);
        Assert.Contains("ConnectTimeout", failure.Message, StringComparison.Ordinal);
        Assert.Equal(GatewayConnectionState.Disconnected, client.State);
    }

    [Fact]
    public async Task A_start_cancelled_by_the_caller_throws_operation_cancelled()
    {
        await using var client = new GatewayClient(new GatewayClientOptions { Url = Url, ConnectTimeout = TestClients.Timeout });
        using var cancellation = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => client.StartAsync(cancellation.Token).WaitAsync(TestClients.Timeout));

        Assert.Equal(GatewayConnectionState.Disconnected, client.State);
    }

    [Fact]
    public async Task Stopping_during_a_start_ends_the_start()
    {
        await using var client = new GatewayClient(new GatewayClientOptions { Url = Url, ConnectTimeout = TestClients.Timeout });
        var start = client.StartAsync();
        await TestClients.Eventually(() => client.State == GatewayConnectionState.Connecting, "connecting");

        await client.StopAsync().WaitAsync(TestClients.Timeout);

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => start.WaitAsync(TestClients.Timeout));
        Assert.Equal(GatewayConnectionState.Disconnected, client.State);
    }
}
