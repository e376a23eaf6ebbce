using Gateway.Contracts;
using Gateway.Server.Events;
using Gateway.Server.Orchestration;
using Gateway.Server.Orchestration.Tasks;
using Gateway.Server.Sessions;
using Microsoft.AspNetCore.SignalR;

namespace Gateway.Server.Hubs;

/// <summary>
/// The one hub, at <see cref="GatewayRoutes.Hub"/>. Thin: sessions, limits and errors are handled by
/// <see cref="SessionManager"/> and <see cref="GatewayHubFilter"/>.
/// </summary>
internal sealed partial class GatewayHub : Hub<IGatewayClient>, IGatewayHub, IEventSubscriptionHub, ITaskHub
{
    private readonly SessionManager _sessions;
    private readonly EventSubscriptions _subscriptions;
    private readonly TaskService _tasks;
    private readonly SessionAdministration _administration;
    private readonly SessionLifetimeOptions _options;
    private readonly TimeProvider _time;
    private readonly RealtimeStats _stats;
    private readonly Metrics.GatewayMetrics _metrics;

    public GatewayHub(
        SessionManager sessions,
        SessionAdministration administration,
        EventSubscriptions subscriptions,
        TaskService tasks,
        Microsoft.Extensions.Options.IOptions<SessionLifetimeOptions> options,
        TimeProvider time,
        RealtimeStats stats,
        Metrics.GatewayMetrics metrics)
    {
        _metrics = metrics;
        _sessions = sessions;
        _subscriptions = subscriptions;
        _tasks = tasks;
        _administration = administration;
        _options = options.Value;
        _time = time;
        _stats = stats;
    }

    public override async Task OnConnectedAsync()
    {
        var protocol = Context.HubConnection()?.Protocol.Name ?? "unknown";
        var connection = await _sessions.OpenAsync(Context, protocol, Context.ConnectionAborted);
        await Clients.Caller.ConnectionEstablished(new ConnectionEstablished(
            connection.SessionId, connection.ClientId, _sessions.NodeId, connection.OpenedAt, _options.HeartbeatIntervalSeconds));
        _stats.MessagesSent(1);
    }

    public override Task OnDisconnectedAsync(Exception? exception)
    {
        _subscriptions.Disconnected(Context.ConnectionId);
        return _sessions.ClosedAsync(Context, exception);
    }

    public Task<SubscriptionAck> Subscribe(SubscriptionRequest request) => _subscriptions.SubscribeAsync(Context, request, Context.ConnectionAborted);

    public Task<bool> Unsubscribe(string subscriptionId) => string.IsNullOrEmpty(subscriptionId)
        ? throw new HubException($"{HubErrorCodes.InvalidArgument}: subscriptionId is required")
        : Task.FromResult(_subscriptions.Unsubscribe(Context.ConnectionId, subscriptionId));

    public Task<HeartbeatReply> Heartbeat()
    {
        // Liveness itself is recorded by the filter, for every invocation.
        _stats.HeartbeatReceived();
        _metrics.HeartbeatReceived();
        return Task.FromResult(new HeartbeatReply(_time.GetUtcNow().UtcDateTime));
    }

    [RequireRole(GatewayRoles.Admin)]
    public Task SubscribeSessions() => Groups.AddToGroupAsync(Context.ConnectionId, SessionEvents.AdminGroup, Context.ConnectionAborted);

    [RequireRole(GatewayRoles.Admin)]
    public Task UnsubscribeSessions() => Groups.RemoveFromGroupAsync(Context.ConnectionId, SessionEvents.AdminGroup, Context.ConnectionAborted);

    [RequireRole(GatewayRoles.Admin)]
    public async Task<bool> DisconnectSession(string sessionId, string reason)
    {
        if (string.IsNullOrEmpty(sessionId))
        {
            throw new HubException($"{HubErrorCodes.NotFound}: no session (sessionId is required)");
        }

        var result = await _administration.DisconnectAsync(sessionId, reason, Context.ConnectionAborted);
        return result switch
        {
            DisconnectResult.NotFound => throw new HubException($"{HubErrorCodes.NotFound}: no session {sessionId}"),
            DisconnectResult.InvalidReason => throw new HubException($"{HubErrorCodes.InvalidArgument}: {SessionAdministration.ReasonRule}"),
            DisconnectResult.Disconnected => true,
            _ => false,
        };
    }
}
