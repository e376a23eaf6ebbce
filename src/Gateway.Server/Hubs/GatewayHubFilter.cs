using System.Collections.Concurrent;
using System.Reflection;
using Gateway.Contracts;
using Gateway.Server.Sessions;
using Microsoft.AspNetCore.SignalR;

namespace Gateway.Server.Hubs;

/// <summary>
/// Runs around every hub invocation: liveness, the per-connection rate limit, role checks, and the rule that
/// clients see chosen errors only (a <see cref="HubException"/> whose message starts with a <see cref="HubErrorCodes"/>
/// code); anything else is logged and answered with <c>internal:</c>. The connection stays open either way.
/// </summary>
internal sealed partial class GatewayHubFilter : IHubFilter
{
    // GetCustomAttribute reflects (and allocates) on every call; a hub has a fixed set of methods, so once per method.
    private static readonly ConcurrentDictionary<MethodInfo, RequireRoleAttribute?> RequiredRoles = new();

    private readonly SessionManager _sessions;
    private readonly RealtimeStats _stats;
    private readonly TimeProvider _time;
    private readonly ILogger<GatewayHubFilter> _logger;
    private readonly Metrics.GatewayMetrics _metrics;

    public GatewayHubFilter(SessionManager sessions, RealtimeStats stats, TimeProvider time, Metrics.GatewayMetrics metrics, ILogger<GatewayHubFilter> logger)
    {
        _metrics = metrics;
        _sessions = sessions;
        _stats = stats;
        _time = time;
        _logger = logger;
    }

    public async ValueTask<object?> InvokeMethodAsync(HubInvocationContext invocationContext, Func<HubInvocationContext, ValueTask<object?>> next)
    {
        try
        {
            return await InvokeCoreAsync(invocationContext, next);
        }
        catch (HubException error)
        {
            _metrics.HubError(HubErrorCodes.CodeOf(error.Message) ?? HubErrorCodes.Internal);
            throw;
        }
    }

    private async ValueTask<object?> InvokeCoreAsync(HubInvocationContext invocationContext, Func<HubInvocationContext, ValueTask<object?>> next)
    {
        _stats.MessageIn();
        var method = invocationContext.HubMethodName;
        if (invocationContext.Context.LiveConnection() is { } connection)
        {
            _sessions.Touch(connection);
            if (connection.Invocations is { } bucket && !bucket.TryTake(_time.GetTimestamp()))
            {
                _stats.RateLimitHit();
                throw new HubException($"{HubErrorCodes.RateLimited}: more invocations than this connection may make; slow down and retry");
            }
        }

        if (RequiredRoles.GetOrAdd(invocationContext.HubMethod, static m => m.GetCustomAttribute<RequireRoleAttribute>()) is { } required
            && !required.Roles.Any(role => invocationContext.Context.User?.IsInRole(role) == true))
        {
            throw new HubException($"{HubErrorCodes.Forbidden}: {method} requires the role {string.Join(" or ", required.Roles)}");
        }

        try
        {
            var result = await next(invocationContext);
            _stats.MessagesSent(1);
            return result;
        }
        catch (HubException)
        {
            _stats.MessagesSent(1);
            throw;
        }
        catch (Events.GatewayRequestException refusal)
        {
            _stats.MessagesSent(1);
            throw new HubException($"{refusal.Code}: {refusal.Message}");
        }
        catch (Exception exception) when (Database.DatabaseBusy.Is(exception))
        {
            _stats.MessagesSent(1);
            throw new HubException($"{HubErrorCodes.DatabaseBusy}: the database stayed locked by another writer; nothing was written, retry");
        }
        catch (Exception exception) when (Database.StorageFault.Of(exception) is not Database.StorageFaultKind.None and var kind)
        {
            _stats.MessagesSent(1);
            throw new HubException($"{Database.StorageFault.HubCode(kind)}: {Database.StorageFault.Describe(kind)}; retry later");
        }
        catch (Exception exception) when (exception is not OperationCanceledException)
        {
            var errorId = Guid.NewGuid().ToString("N")[..12];
            LogInvocationFailed(exception, method, invocationContext.Context.ConnectionId, errorId);
            _stats.MessagesSent(1);
            throw new HubException($"{HubErrorCodes.Internal}: {method} failed on the gateway (error id {errorId})");
        }
    }

    public async Task OnConnectedAsync(HubLifetimeContext context, Func<HubLifetimeContext, Task> next)
    {
        try
        {
            await next(context);
        }
        catch (Exception exception) when (Database.DatabaseBusy.Is(exception))
        {
            // The session row could not be written: refuse the connection with a code the client can retry on, and
            // tell the operator why clients cannot connect.
            LogConnectRefusedDatabaseBusy(context.Context.ConnectionId);
            throw new HubException($"{HubErrorCodes.DatabaseBusy}: the database stayed locked by another writer; no session was opened, retry");
        }
        catch (Exception exception) when (Database.StorageFault.Of(exception) is not Database.StorageFaultKind.None and var kind)
        {
            LogConnectRefusedStorage(context.Context.ConnectionId, Database.StorageFault.RestCode(kind));
            throw new HubException($"{Database.StorageFault.HubCode(kind)}: {Database.StorageFault.Describe(kind)}; no session was opened, retry later");
        }
        catch (Exception exception) when (exception is not HubException and not OperationCanceledException)
        {
            var errorId = Guid.NewGuid().ToString("N")[..12];
            LogConnectFailed(exception, context.Context.ConnectionId, errorId);
            throw new HubException($"{HubErrorCodes.Internal}: the gateway could not open a session (error id {errorId})");
        }
    }

    [LoggerMessage(EventId = 3401, Level = LogLevel.Error, Message = "Hub method {Method} failed on connection {ConnectionId} (error id {ErrorId})")]
    private partial void LogInvocationFailed(Exception exception, string method, string connectionId, string errorId);

    [LoggerMessage(EventId = 3402, Level = LogLevel.Error, Message = "Opening a session failed on connection {ConnectionId} (error id {ErrorId})")]
    private partial void LogConnectFailed(Exception exception, string connectionId, string errorId);

    [LoggerMessage(EventId = 3404, Level = LogLevel.Warning, Message = "Connection {ConnectionId} refused: its session row could not be written ({Code})")]
    private partial void LogConnectRefusedStorage(string connectionId, string code);

    [LoggerMessage(EventId = 3403, Level = LogLevel.Warning, Message = "Connection {ConnectionId} refused: the database stayed locked by another writer past the busy timeout")]
    private partial void LogConnectRefusedDatabaseBusy(string connectionId);
}
