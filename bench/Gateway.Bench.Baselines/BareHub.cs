using Gateway.Contracts;
using Microsoft.AspNetCore.SignalR;

namespace Gateway.Bench.Baselines;

/// <summary>
/// B1: what the gateway does on the wire, and nothing else. The same route, protocols, records and method names
/// (Heartbeat, Subscribe, ChangeTaskStatus), a SignalR group per subscribed id, no database, no authentication,
/// no per-connection queue: the cost floor of SignalR itself on this machine.
/// </summary>
internal static class BareHub
{
    public static async Task<int> RunAsync(string[] args)
    {
        var builder = WebApplication.CreateSlimBuilder(args);
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.Services.AddSignalR(options => options.MaximumReceiveMessageSize = 65536).AddMessagePackProtocol();
        var app = builder.Build();
        app.MapHub<BaselineHub>(GatewayRoutes.Hub);
        app.MapGet("/health/live", () => "ok");
        await app.RunAsync();
        return 0;
    }
}

internal sealed class BaselineHub : Hub
{
    private static long s_eventId;

    public override Task OnConnectedAsync() =>
        Clients.Caller.SendAsync(
            nameof(IGatewayClient.ConnectionEstablished),
            new ConnectionEstablished(Context.ConnectionId, Context.ConnectionId, "baseline", DateTime.UtcNow, 15),
            Context.ConnectionAborted);

#pragma warning disable CA1822 // SignalR calls hub methods on an instance.
    public HeartbeatReply Heartbeat() => new(DateTime.UtcNow);
#pragma warning restore CA1822

    public async Task<SubscriptionAck> Subscribe(SubscriptionRequest request)
    {
        var group = request.Id ?? SubscriptionScopes.All;
        await Groups.AddToGroupAsync(Context.ConnectionId, group, Context.ConnectionAborted);
        return new SubscriptionAck(group, Interlocked.Read(ref s_eventId), Reset: false);
    }

    /// <summary>Broadcasts a task.status event shaped like the gateway's to the group of the task; no state kept.</summary>
    public async Task<TaskInfo> ChangeTaskStatus(string taskId, ChangeTaskStatusCommand command)
    {
        var now = DateTime.UtcNow;
        var id = Interlocked.Increment(ref s_eventId);
        var payload = System.Text.Json.JsonSerializer.Serialize(new Dictionary<string, object?>
        {
            ["task_id"] = taskId,
            ["status"] = command.Status,
            ["previous_status"] = command.ExpectedStatus,
            ["timestamp"] = now,
        });
        await Clients.Group(taskId).SendAsync(
            nameof(IGatewayClient.EventReceived),
            new GatewayEvent(taskId, id, EventTypes.TaskStatus, EventPriorities.Normal, taskId, null, null, payload, now),
            Context.ConnectionAborted);
        return new TaskInfo(taskId, "bench", null, "bench", command.Status, "{}", null, null, now, now, now, null, null);
    }
}
