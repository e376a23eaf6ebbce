using Gateway.Contracts;
using Gateway.Server.Hubs;
using Microsoft.AspNetCore.SignalR;

namespace Gateway.Server.Sessions;

/// <summary>Sends session.opened / session.closed to the admins who subscribed. Never throws: a failed send to one client is SignalR's to handle.</summary>
internal sealed class SessionEvents
{
    /// <summary>The SignalR group of admins subscribed to session events.</summary>
    public const string AdminGroup = "admin:sessions";

    private readonly IHubContext<GatewayHub, IGatewayClient> _hub;
    private readonly RealtimeStats _stats;

    public SessionEvents(IHubContext<GatewayHub, IGatewayClient> hub, RealtimeStats stats)
    {
        _hub = hub;
        _stats = stats;
    }

    public Task OpenedAsync(SessionInfo session) => SendAsync(group => group.SessionOpened(session));

    public Task ClosedAsync(SessionInfo session) => SendAsync(group => group.SessionClosed(session));

    private async Task SendAsync(Func<IGatewayClient, Task> send)
    {
        await send(_hub.Clients.Group(AdminGroup));
        _stats.MessagesSent(1);
    }
}
