using Gateway.Contracts;
using Gateway.Data;
using Gateway.Data.Conversion;
using Gateway.Data.Entities;
using Gateway.Server.Cluster;
using Microsoft.EntityFrameworkCore;

namespace Gateway.Server.Sessions;

internal enum DisconnectResult
{
    NotFound,
    InvalidReason,
    AlreadyInactive,
    Disconnected,
}

/// <summary>What admins do with sessions, over REST and over the hub alike.</summary>
internal sealed partial class SessionAdministration
{
    public const int MaxReasonLength = 200;
    public const string ReasonRule = "reason must be 1 to 200 printable characters";

    private readonly IDbContextFactory<GatewayDbContext> _contexts;
    private readonly SessionManager _sessions;
    private readonly SessionWriter _writer;
    private readonly SessionEvents _events;
    private readonly TimeProvider _time;
    private readonly ILogger<SessionAdministration> _logger;
    private readonly NodeRegistry _registry;
    private readonly ISignalStore _signals;

    public SessionAdministration(
        IDbContextFactory<GatewayDbContext> contexts,
        SessionManager sessions,
        SessionWriter writer,
        SessionEvents events,
        TimeProvider time,
        NodeRegistry registry,
        ISignalStore signals,
        ILogger<SessionAdministration> logger)
    {
        _signals = signals;
        _registry = registry;
        _contexts = contexts;
        _sessions = sessions;
        _writer = writer;
        _events = events;
        _time = time;
        _logger = logger;
    }

    public async Task<SessionInfo?> GetAsync(string sessionId, CancellationToken cancellationToken)
    {
        await using var db = await _contexts.CreateDbContextAsync(cancellationToken);
        var row = await db.Sessions.AsNoTracking().FirstOrDefaultAsync(s => s.Id == sessionId, cancellationToken);
        return row is null ? null : ToInfo(row);
    }

    public async Task<SessionPage> ListAsync(SessionQuery query, CancellationToken cancellationToken)
    {
        await using var db = await _contexts.CreateDbContextAsync(cancellationToken);
        var rows = db.Sessions.AsNoTracking();
        if (query.Active is { } active)
        {
            rows = rows.Where(s => s.IsActive == active);
        }

        if (query.UserId is { } user)
        {
            rows = rows.Where(s => s.UserId == user);
        }

        if (query.ClientId is { } client)
        {
            rows = rows.Where(s => s.ClientId == client);
        }

        if (query.ConnectionType is { } type)
        {
            rows = rows.Where(s => s.ConnectionType == type);
        }

        if (query.StaleSeconds is { } staleSeconds)
        {
            var cutoff = _time.GetUtcNow().UtcDateTime.AddSeconds(-staleSeconds);
            rows = rows.Where(s => s.LastHeartbeat < cutoff);
        }

        rows = (query.SortBy, query.Descending) switch
        {
            (SessionSort.LastHeartbeat, true) => rows.OrderByDescending(s => s.LastHeartbeat).ThenByDescending(s => s.Id),
            (SessionSort.LastHeartbeat, false) => rows.OrderBy(s => s.LastHeartbeat).ThenBy(s => s.Id),
            (SessionSort.Created, true) => rows.OrderByDescending(s => s.CreatedAt).ThenByDescending(s => s.Id),
            _ => rows.OrderBy(s => s.CreatedAt).ThenBy(s => s.Id),
        };

        var total = await rows.CountAsync(cancellationToken);
        var page = await rows.Skip((query.Page - 1) * query.PageSize).Take(query.PageSize).ToListAsync(cancellationToken);
        return new SessionPage(page.Select(ToInfo).ToList(), query.Page, query.PageSize, total);
    }

    public async Task<int> CountActiveAsync(CancellationToken cancellationToken)
    {
        await using var db = await _contexts.CreateDbContextAsync(cancellationToken);
        return await db.Sessions.CountAsync(s => s.IsActive, cancellationToken);
    }

    /// <summary>
    /// Closes a session: the live connection (here) is told why and aborted; the row is marked inactive with the
    /// reason. A session open on another live node is closed by that node, signalled through the database; one whose
    /// node is gone has only its row closed.
    /// </summary>
    public async Task<DisconnectResult> DisconnectAsync(string sessionId, string? reason, CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(reason) || reason.Length > MaxReasonLength || reason.Any(char.IsControl) || !Orchestration.JsonInput.IsValidUtf16(reason))
        {
            return DisconnectResult.InvalidReason;
        }

        if (await _sessions.CloseLiveAsync(sessionId, HubErrorCodes.DisconnectedByAdmin, reason, cancellationToken))
        {
            LogDisconnected(sessionId, live: true);
            return DisconnectResult.Disconnected;
        }

        var session = await GetAsync(sessionId, cancellationToken);
        if (session is null)
        {
            return DisconnectResult.NotFound;
        }

        if (!session.IsActive)
        {
            return DisconnectResult.AlreadyInactive;
        }

        if (await CloseOnHolderAsync(session, reason, cancellationToken))
        {
            LogDisconnected(sessionId, live: true);
            return DisconnectResult.Disconnected;
        }

        await _writer.CloseAsync(sessionId, CloseReasons.DisconnectedByAdmin, cancellationToken, reason);
        LogDisconnected(sessionId, live: false);
        await _events.ClosedAsync(session with { IsActive = false, UpdatedAt = _time.GetUtcNow().UtcDateTime });
        return DisconnectResult.Disconnected;
    }

    /// <summary>
    /// A session held by another live node: that node is signalled to close it (its client gets the notice), and
    /// this waits until the row says closed. False: no live node holds it, or the holder did not close it in time
    /// (the caller then closes the row; the holder still aborts the connection when it reads the signal).
    /// </summary>
    private async Task<bool> CloseOnHolderAsync(SessionInfo session, string reason, CancellationToken cancellationToken)
    {
        if (SessionMetadata.NodeOf(session.Metadata) is not { } holder || holder == _sessions.NodeId
            || await _registry.FindAsync(holder, cancellationToken) is not { } node || !_registry.IsLive(node))
        {
            return false;
        }

        var payload = System.Text.Json.JsonSerializer.Serialize(new ClusterSignals.DisconnectRequest(session.Id, reason), ClusterSignals.PayloadOptions);
        var signal = new Signal(0, ClusterSignals.SessionDisconnect, _sessions.NodeId, holder, payload, _time.GetUtcNow().UtcDateTime);
        await _writer.ExecuteAsync((transaction, token) => _signals.InsertAsync(transaction, signal, token), cancellationToken);
        var deadline = _time.GetUtcNow() + RemoteCloseTimeout;
        while (_time.GetUtcNow() < deadline)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(20), _time, cancellationToken);
            if (await GetAsync(session.Id, cancellationToken) is not { IsActive: true })
            {
                return true;
            }
        }

        LogHolderSilent(session.Id, holder, RemoteCloseTimeout.TotalSeconds);
        return false;
    }

    /// <summary>How long an admin's disconnect waits for the node holding the session.</summary>
    private static readonly TimeSpan RemoteCloseTimeout = TimeSpan.FromSeconds(3);

    private static SessionInfo ToInfo(GatewaySession row) => new(
        row.Id,
        row.ClientId,
        row.UserId,
        StoreEnum.ToStoreValue(row.ConnectionType),
        row.IsActive,
        row.Metadata,
        row.CreatedAt,
        row.UpdatedAt,
        row.LastHeartbeat);

    [LoggerMessage(EventId = 3502, Level = LogLevel.Warning,
        Message = "Session {SessionId}: node {NodeId} holding it did not close it within {Seconds} s; its row is closed here")]
    private partial void LogHolderSilent(string sessionId, string nodeId, double seconds);

    [LoggerMessage(EventId = 3501, Level = LogLevel.Information, Message = "Session {SessionId} disconnected by an admin (connected here: {Live})")]
    private partial void LogDisconnected(string sessionId, bool live);
}

internal enum SessionSort
{
    Created,
    LastHeartbeat,
}

/// <summary>Filters of <c>GET /api/sessions</c>, validated.</summary>
internal sealed record SessionQuery(
    bool? Active,
    string? UserId,
    string? ClientId,
    SessionConnectionType? ConnectionType,
    int? StaleSeconds,
    SessionSort SortBy,
    bool Descending,
    int Page,
    int PageSize);

internal sealed record SessionPage(IReadOnlyList<SessionInfo> Items, int Page, int PageSize, int Total);
