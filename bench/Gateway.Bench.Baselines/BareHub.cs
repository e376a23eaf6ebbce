using System.Globalization;
using System.Text;
using Gateway.Contracts;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.SignalR;
using Microsoft.IdentityModel.Tokens;

namespace Gateway.Bench.Baselines;

/// <summary>
/// B1: what the gateway does on the wire, and nothing else. The same route, protocols, records and method names
/// (Heartbeat, Subscribe, ChangeTaskStatus), a SignalR group per subscribed id, no database, no authentication,
/// no per-connection queue: the cost floor of SignalR itself on this machine. B2 (<c>--database PATH</c>): B1 that
/// commits each status change to the gateway's schema before broadcasting it (<see cref="DurableChangeLog"/>).
/// B1+JWT (<c>--jwt-key KEY</c>): B1 that authenticates its connections as the gateway does.
/// </summary>
internal static class BareHub
{
    public static async Task<int> RunAsync(string[] args)
    {
        var builder = WebApplication.CreateSlimBuilder(args);
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.Services.AddSignalR(options =>
        {
            options.MaximumReceiveMessageSize = 65536;
            // As the gateway (Limits:MaxParallelInvocationsPerConnection): a driver's changes do not wait for each
            // other's commit (B2). B1's invocations await only when a subscriber's pipe is full.
            options.MaximumParallelInvocationsPerClient = 16;
        }).AddMessagePackProtocol();
        if (builder.Configuration["database"] is { Length: > 0 } database)
        {
            builder.Services.AddSingleton(new DurableChangeLog(database));
        }

        var jwtKey = builder.Configuration["jwt-key"];
        if (jwtKey is { Length: > 0 })
        {
            AddJwtBearer(builder.Services, jwtKey);
        }

        var app = builder.Build();
        var hub = app.MapHub<BaselineHub>(GatewayRoutes.Hub);
        if (jwtKey is { Length: > 0 })
        {
            app.UseAuthentication();
            app.UseAuthorization();
            hub.RequireAuthorization();
        }

        app.MapGet("/health/live", () => "ok");
        await app.RunAsync();
        return 0;
    }

    /// <summary>
    /// B1+JWT (<c>--jwt-key KEY</c>): B1 behind ASP.NET Core's JwtBearer with the gateway's validation rules (HS256 with
    /// the key's UTF-8 bytes, issuer and audience <c>gateway</c>, claims under their JWT names, token not saved), so a
    /// connect pays what authenticating a connection costs and nothing else the gateway does.
    /// </summary>
    private static void AddJwtBearer(IServiceCollection services, string key)
    {
        services.AddAuthorization();
        services.AddAuthentication(JwtBearerDefaults.AuthenticationScheme).AddJwtBearer(options =>
        {
            options.MapInboundClaims = false;
            options.SaveToken = false;
            options.TokenValidationParameters = new TokenValidationParameters
            {
                ValidIssuer = "gateway",
                ValidAudience = "gateway",
                IssuerSigningKey = new SymmetricSecurityKey(Encoding.UTF8.GetBytes(key)),
                ValidAlgorithms = [SecurityAlgorithms.HmacSha256],
                NameClaimType = "sub",
                RoleClaimType = "role",
            };
            options.Events = new JwtBearerEvents
            {
                // Browsers put the token in the query string for WebSockets, as the gateway accepts it.
                OnMessageReceived = context =>
                {
                    if (context.Token is null && context.Request.Query["access_token"].ToString() is { Length: > 0 } token)
                    {
                        context.Token = token;
                    }

                    return Task.CompletedTask;
                },
            };
        });
    }
}

internal sealed class BaselineHub(IServiceProvider services) : Hub
{
    private static long s_eventId;
    private readonly DurableChangeLog? _log = services.GetService<DurableChangeLog>();

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
        var payload = System.Text.Json.JsonSerializer.Serialize(new Dictionary<string, object?>
        {
            ["task_id"] = taskId,
            ["status"] = command.Status,
            ["previous_status"] = command.ExpectedStatus,
            ["timestamp"] = now,
        });
        var id = _log is null
            ? Interlocked.Increment(ref s_eventId)
            : await _log.AppendAsync(taskId, command.Status, command.ExpectedStatus, payload, now.ToString("yyyy-MM-dd HH:mm:ss.FFFFFFF", CultureInfo.InvariantCulture));
        await Clients.Group(taskId).SendAsync(
            nameof(IGatewayClient.EventReceived),
            new GatewayEvent(taskId, id, EventTypes.TaskStatus, EventPriorities.Normal, taskId, null, null, payload, now),
            Context.ConnectionAborted);
        return new TaskInfo(taskId, "bench", null, "bench", command.Status, "{}", null, null, now, now, now, null, null);
    }
}
