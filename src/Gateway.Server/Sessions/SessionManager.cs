using System.Security.Claims;
using Gateway.Contracts;
using Gateway.Server.Database;
using Gateway.Server.Hubs;
using Microsoft.AspNetCore.Http.Connections.Features;
using Microsoft.AspNetCore.Http.Connections;
using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.Options;

namespace Gateway.Server.Sessions;

/// <summary>
/// Opens and closes sessions for connections of this node: the row, the live registry, the limits, the
/// notices to the client and the events to admins. The hub, the admin API and the reaper all go through it.
/// </summary>
internal sealed partial class SessionManager : IDisposable
{
    private const int MaxClientIdLength = 128;

    private readonly LiveConnections _live;
    private readonly SessionWriter _writer;
    private readonly SessionEvents _events;
    private readonly SessionLifetimeOptions _options;
    private readonly LimitOptions _limits;
    private readonly string _nodeId;
    private readonly TimeProvider _time;
    private readonly IHubContext<GatewayHub, IGatewayClient> _hub;
    private readonly RealtimeStats _stats;
    private readonly ILogger<SessionManager> _logger;
    private readonly TokenExpiryWatch _expiries;
    private readonly RefusedConnections _refusals;
    private volatile bool _shuttingDown;

    private readonly Database.SchemaValues _schema;

    public SessionManager(
        LiveConnections live,
        SessionWriter writer,
        SessionEvents events,
        IOptions<SessionLifetimeOptions> options,
        IOptions<LimitOptions> limits,
        IOptions<NodeOptions> node,
        TimeProvider time,
        IHubContext<GatewayHub, IGatewayClient> hub,
        RealtimeStats stats,
        RefusedConnections refusals,
        Database.SchemaValues schema,
        ILogger<SessionManager> logger)
    {
        _schema = schema;
        _live = live;
        _writer = writer;
        _events = events;
        _options = options.Value;
        _limits = limits.Value;
        _nodeId = node.Value.ResolvedId;
        _time = time;
        _hub = hub;
        _stats = stats;
        _refusals = refusals;
        _logger = logger;
        _expiries = new TokenExpiryWatch(live, time, OnTokenExpired);
    }

    public void Dispose() => _expiries.Dispose();

    public string NodeId => _nodeId;

    /// <summary>
    /// Creates the session of a new connection, or refuses it with a <see cref="HubException"/> carrying a
    /// <see cref="HubErrorCodes"/> code (a refusal for the connection limits is recorded as an inactive row with its
    /// reason, at most once per user per Limits:RefusalRecordIntervalSeconds: see <see cref="RefusedConnections"/>).
    /// </summary>
    public async Task<LiveConnection> OpenAsync(HubCallerContext context, string protocol, CancellationToken cancellationToken)
    {
        var http = context.GetHttpContext();
        var clientId = ClientIdOf(http);
        var userId = context.UserIdentifier;
        var connectionType = ConnectionTypeOf(context);
        var now = _time.GetUtcNow().UtcDateTime;
        var metadata = new SessionMetadata(
            protocol,
            context.Features.Get<IHttpTransportFeature>()?.TransportType.ToString() ?? "unknown",
            Truncate(http?.Request.Headers.UserAgent.ToString()),
            http?.Connection.RemoteIpAddress?.ToString(),
            Truncate(FirstNonEmpty(http?.Request.Query[GatewayRoutes.ClientVersionQuery], http?.Request.Headers[GatewayRoutes.ClientVersionHeader])),
            _nodeId);
        var sessionId = Guid.CreateVersion7().ToString();
        var userKey = userId ?? "anonymous";

        if (_shuttingDown)
        {
            throw new HubException($"{HubErrorCodes.ServerShutdown}: this gateway node is shutting down; reconnect");
        }

        var row = new SessionRow(sessionId, clientId, userId, connectionType, IsActive: true, metadata.ToJson(), now, _limits.MaxConnectionsPerUser);
        if (_live.TryAdmit(userKey) is { } refusal)
        {
            throw await RefusalAsync(row, metadata, userKey, refusal, cancellationToken);
        }

        bool admitted;
        try
        {
            // Not cancelled by the client going away: once queued, the row is committed with its batch, so this must
            // wait for it and register the connection, or nothing would close the row when the connection ends.
            // The per-user limit counts the user's sessions on every live node, checked in the insert's transaction.
            admitted = await _writer.OpenAsync(row, CancellationToken.None);
        }
        catch
        {
            _live.Release(userKey);
            throw;
        }

        if (!admitted)
        {
            _live.Release(userKey);
            throw await RefusalAsync(
                row, metadata, userKey, $"user '{userKey}' already has {_limits.MaxConnectionsPerUser} connections on the gateway's nodes, the limit per user", cancellationToken);
        }

        var connection = new LiveConnection
        {
            SessionId = sessionId,
            ConnectionId = context.ConnectionId,
            ClientId = clientId,
            UserId = userId,
            ConnectionType = connectionType,
            Protocol = protocol,
            OpenedAt = now,
            Context = context,
            Metadata = metadata,
            TokenExpiresAt = ExpiryOf(context),
            Invocations = _limits.InvocationsPerSecond > 0
                ? new TokenBucket(_limits.InvocationsPerSecond, _limits.InvocationBurst, _time.GetTimestamp(), _time.TimestampFrequency)
                : null,
        };
        _live.Add(connection);
        context.SetLiveConnection(connection);
        if (connection.TokenExpiresAt is { } expiry)
        {
            // SignalR closes a connection whose token expired only when the client next sends something, and
            // silently. The gateway closes it at the expiry, after telling the client why and that it should
            // reconnect (with a fresh token: GatewayClient asks its AccessTokenProvider again).
            _expiries.Watch(expiry);
        }

        LogOpened(sessionId, clientId, userKey, connectionType, protocol);
        await _events.OpenedAsync(Describe(connection, isActive: true, now));
        return connection;
    }

    /// <summary>Records the refusal (at most once per user per interval, as an inactive row); returns the client's error.</summary>
    private async Task<HubException> RefusalAsync(SessionRow row, SessionMetadata metadata, string userKey, string refusal, CancellationToken cancellationToken)
    {
        if (_refusals.TryRecord(userKey, out var unrecorded))
        {
            var refused = metadata with { CloseReason = CloseReasons.TooManyConnections, UnrecordedRefusals = unrecorded };
            await _writer.OpenAsync(row with { IsActive = false, Metadata = refused.ToJson(), MaxUserSessions = null }, cancellationToken);
            LogRefused(row.Id, userKey, refusal, unrecorded);
        }

        return new HubException($"{HubErrorCodes.TooManyConnections}: {refusal}");
    }

    /// <summary>Closes the session of a connection that ended, whoever ended it.</summary>
    public async Task ClosedAsync(HubCallerContext context, Exception? exception)
    {
        if (context.LiveConnection() is not { } connection)
        {
            return;
        }

        _live.Remove(connection.SessionId, out _);
        _live.Release(connection.UserId ?? "anonymous");
        connection.TrySetCloseReason(ReasonFor(context, exception));
        var reason = connection.CloseReason!;
        try
        {
            await _writer.CloseAsync(connection.SessionId, reason, CancellationToken.None);
        }
        catch (Exception failure) when (failure is System.Data.Common.DbException or InvalidOperationException or TimeoutException)
        {
            // The connection is gone whatever the database says. A database that is away (down, full, busy) gets the
            // close with the first flush that goes through again; otherwise the row stays active without heartbeats,
            // and the reaper (of any node) closes it after the stale timeout and announces it then.
            if (StorageFault.Of(failure) != StorageFaultKind.None || DatabaseBusy.Is(failure) || failure is TimeoutException)
            {
                var at = _time.GetUtcNow().UtcDateTime;
                _writer.CloseOnceBack(connection.SessionId, reason, at, () => _events.ClosedAsync(Describe(connection, isActive: false, at)));
                LogCloseOwed(connection.SessionId, reason);
                return;
            }

            LogCloseNotWritten(failure, connection.SessionId, reason);
            return;
        }

        LogClosed(connection.SessionId, reason);
        await _events.ClosedAsync(Describe(connection, isActive: false, _time.GetUtcNow().UtcDateTime));
    }

    /// <summary>
    /// Closes a session for a reason of the gateway's (admin, stale): the row is marked inactive first, then the
    /// client, if connected here, is told why and its connection aborted after the close grace.
    /// </summary>
    /// <returns>Whether the session was live on this node.</returns>
    public async Task<bool> CloseLiveAsync(string sessionId, string code, string message, CancellationToken cancellationToken)
    {
        if (_live.Find(sessionId) is not { } connection || !connection.TrySetCloseReason(code))
        {
            return false;
        }

        await _writer.CloseAsync(sessionId, code, cancellationToken, message);
        _ = NotifyAndAbortAsync(connection, new ConnectionClosing(code, message, Reconnect: code is HubErrorCodes.Stale or HubErrorCodes.ServerShutdown));
        return true;
    }

    private void OnTokenExpired(LiveConnection connection)
    {
        if (connection.TrySetCloseReason(CloseReasons.TokenExpired))
        {
            _ = NotifyAndAbortAsync(
                connection, new ConnectionClosing(HubErrorCodes.TokenExpired, "the access token expired; reconnect with a fresh one", Reconnect: true));
        }
    }

    private static DateTimeOffset? ExpiryOf(HubCallerContext context) =>
        context.User?.FindFirst(Auth.GatewayClaimTypes.Expires)?.Value is { } exp
        && long.TryParse(exp, System.Globalization.CultureInfo.InvariantCulture, out var seconds)
        && seconds <= MaxUnixSeconds
            ? DateTimeOffset.FromUnixTimeSeconds(seconds)
            : null;

    /// <summary>An <c>exp</c> past year 9999 is a token that never expires (the validator clamps it the same way).</summary>
    private static readonly long MaxUnixSeconds = DateTimeOffset.MaxValue.ToUnixTimeSeconds();

    /// <summary>Tells a client whose row the reaper already closed, then aborts it.</summary>
    public void AbortReaped(string sessionId)
    {
        if (_live.Find(sessionId) is { } connection && connection.TrySetCloseReason(CloseReasons.Stale))
        {
            _ = NotifyAndAbortAsync(connection, new ConnectionClosing(HubErrorCodes.Stale, "no heartbeat within the stale timeout", Reconnect: true));
        }
    }

    /// <summary>Marks the node as stopping: new connections are refused and every open one is told to reconnect elsewhere.</summary>
    public async Task BeginShutdownAsync()
    {
        _shuttingDown = true;
        var told = 0;
        foreach (var connection in _live.All)
        {
            if (connection.TrySetCloseReason(CloseReasons.ServerShutdown))
            {
                await SendClosingAsync(connection, new ConnectionClosing(HubErrorCodes.ServerShutdown, "the gateway node is shutting down", Reconnect: true));
                told++;
            }
        }

        if (told > 0)
        {
            // Long-polling and SSE clients pick the notice up on their next read; give them the close grace for it
            // before the server closes their connections.
            await Task.Delay(_options.CloseGrace, _time);
        }
    }

    /// <summary>Tells every open connection why it is closed and that it should reconnect, then aborts it.</summary>
    public Task ReconnectAllAsync(string code, string message) =>
        Task.WhenAll(_live.All
            .Where(connection => connection.TrySetCloseReason(code))
            .Select(connection => NotifyAndAbortAsync(connection, new ConnectionClosing(code, message, Reconnect: true)))
            .ToList());

    public bool IsLive(string sessionId) => _live.Find(sessionId) is not null;

    /// <summary>Records liveness of a connection (any invocation).</summary>
    public void Touch(LiveConnection connection) => _writer.Touch(connection.SessionId);

    public SessionInfo Describe(LiveConnection connection, bool isActive, DateTime updatedAt) => new(
        connection.SessionId,
        connection.ClientId,
        connection.UserId,
        connection.ConnectionType,
        isActive,
        connection.Metadata.ToJson(),
        connection.OpenedAt,
        updatedAt,
        _writer.PendingHeartbeat(connection.SessionId) ?? connection.OpenedAt);

    private async Task NotifyAndAbortAsync(LiveConnection connection, ConnectionClosing notice)
    {
        await SendClosingAsync(connection, notice);
        await Task.Delay(_options.CloseGrace, _time);
        connection.Context.Abort();
    }

    private async Task SendClosingAsync(LiveConnection connection, ConnectionClosing notice)
    {
        try
        {
            await _hub.Clients.Client(connection.ConnectionId).ConnectionClosing(notice);
            _stats.MessagesSent(1);
        }
        catch (Exception exception) when (exception is not OperationCanceledException)
        {
            // The connection may already be gone; the abort that follows settles it either way.
            LogNoticeFailed(exception, connection.SessionId);
        }
    }

    private string ReasonFor(HubCallerContext context, Exception? exception)
    {
        if (_shuttingDown)
        {
            return CloseReasons.ServerShutdown;
        }

        // The gateway's own code (MessageSizeHubProtocolResolver), or SignalR's error should a protocol be resolved without it.
        if ((exception is HubException && HubErrorCodes.CodeOf(exception.Message) == HubErrorCodes.MessageTooLarge)
            || (exception is InvalidDataException && exception.Message.Contains("maximum message size", StringComparison.OrdinalIgnoreCase)))
        {
            return CloseReasons.MessageTooLarge;
        }

        if (ExpiryOf(context) is { } expiry && expiry <= _time.GetUtcNow())
        {
            return CloseReasons.TokenExpired;
        }

        return exception is null ? CloseReasons.ClientClosed : CloseReasons.TransportError;
    }

    private static string ClientIdOf(HttpContext? http)
    {
        var supplied = FirstNonEmpty(http?.Request.Query[GatewayRoutes.ClientIdQuery], http?.Request.Headers[GatewayRoutes.ClientIdHeader]);
        if (supplied is null)
        {
            return Guid.NewGuid().ToString();
        }

        if (supplied.Length > MaxClientIdLength || supplied.Any(char.IsControl) || !Orchestration.JsonInput.IsValidUtf16(supplied))
        {
            throw new HubException($"{HubErrorCodes.InvalidArgument}: clientId must be at most {MaxClientIdLength} printable characters");
        }

        return supplied;
    }

    /// <summary>The transport's own connection_type, or http where the database has none for it (metadata keeps the transport).</summary>
    private string ConnectionTypeOf(HubCallerContext context) =>
        _schema.ConnectionTypeOf(context.Features.Get<IHttpTransportFeature>()?.TransportType switch
        {
            HttpTransportType.ServerSentEvents => Gateway.Data.Entities.SessionConnectionType.ServerSentEvents,
            HttpTransportType.LongPolling => Gateway.Data.Entities.SessionConnectionType.LongPolling,
            _ => Gateway.Data.Entities.SessionConnectionType.Websocket,
        });

    private static string? FirstNonEmpty(params string?[] values) => values.FirstOrDefault(v => !string.IsNullOrWhiteSpace(v));

    private static string? Truncate(string? value) => value is { Length: > 256 } ? value[..256] : value;

    [LoggerMessage(EventId = 3101, Level = LogLevel.Debug, Message = "Session {SessionId} opened: client {ClientId}, user {UserId}, {ConnectionType}/{Protocol}")]
    private partial void LogOpened(string sessionId, string clientId, string userId, string connectionType, string protocol);

    [LoggerMessage(EventId = 3102, Level = LogLevel.Debug, Message = "Session {SessionId} closed: {Reason}")]
    private partial void LogClosed(string sessionId, string reason);

    [LoggerMessage(EventId = 3103, Level = LogLevel.Warning,
        Message = "Connection refused, session {SessionId} of user {UserId}: {Reason} ({Unrecorded} more refusals of this user since the last one logged)")]
    private partial void LogRefused(string sessionId, string userId, string reason, int unrecorded);

    [LoggerMessage(EventId = 3105, Level = LogLevel.Warning,
        Message = "Session {SessionId} ended ({Reason}) but its row could not be closed; the stale-session reaper closes it")]
    private partial void LogCloseNotWritten(Exception exception, string sessionId, string reason);

    [LoggerMessage(EventId = 3107, Level = LogLevel.Warning,
        Message = "Session {SessionId} ended ({Reason}) while the database is away; its row is closed with the first session write that gets through (if this node stops first: at its next start, or by the reaper)")]
    private partial void LogCloseOwed(string sessionId, string reason);

    [LoggerMessage(EventId = 3104, Level = LogLevel.Debug, Message = "Could not tell session {SessionId} it is being closed")]
    private partial void LogNoticeFailed(Exception exception, string sessionId);
}
