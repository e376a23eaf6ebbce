using Gateway.Contracts;
using Gateway.Server.Orchestration.ToolExecutions;
using Gateway.Testing;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.DependencyInjection;

namespace Gateway.Server.Tests.Sessions;

/// <summary>
/// What a client learns of an error the gateway's hub filter never sees: here a service a hub method takes that fails
/// to be created (SignalR resolves it before the filters run). Exception text only in Development.
/// </summary>
public sealed class HubErrorTextTests
{
    private const string InternalDetail = "Data Source=/srv/secret/gateway.db is unreachable";

    [Theory]
    [InlineData("Production", false)]
    [InlineData("Development", true)]
    public async Task An_internal_hub_error_carries_the_exception_text_in_development_only(string environment, bool detailed)
    {
        using var server = new GatewayTestServer(
            new Dictionary<string, string?> { ["environment"] = environment },
            configureServices: services => services.AddSingleton<ToolExecutionService>(_ => throw new InvalidOperationException(InternalDetail)));
        await using var client = server.CreateClient(GatewayTestServer.Token("agent-1", GatewayRoles.Agent));
        await client.StartAsync();

        var error = await Assert.ThrowsAsync<HubException>(
            () => client.Connection.InvokeAsync<ToolExecutionInfo>(nameof(IToolExecutionHub.GetToolExecution), "some-id").WaitAsync(TestHubConnections.Timeout));

        Assert.Equal(detailed, error.Message.Contains(InternalDetail, StringComparison.Ordinal));
        Assert.Equal(detailed, error.Message.Contains(nameof(InvalidOperationException), StringComparison.Ordinal));
        Assert.Contains(nameof(IToolExecutionHub.GetToolExecution), error.Message, StringComparison.Ordinal);
        // The connection stays open.
        Assert.NotEqual(default, (await client.Connection.InvokeAsync<HeartbeatReply>(nameof(IGatewayHub.Heartbeat))).ServerTime);
    }
}
