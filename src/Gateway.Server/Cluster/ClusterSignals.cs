using System.Text.Json;
using Gateway.Contracts;
using Gateway.Server.Sessions;
using Microsoft.Extensions.Options;

namespace Gateway.Server.Cluster;

/// <summary>
/// Signals between nodes through the shared database (<c>gateway_signals</c>), so that a cluster needs nothing but
/// its database: session announcements for every node's admins, and an admin's disconnect for the node holding the
/// connection. Written in the writer's transactions; read by the event-log follower on the same wake-up as events
/// (another connection committed), in id order, each node skipping its own.
/// </summary>
/// <remarks>
/// Stored through <see cref="ISignalStore"/>, whose contract (ids in commit order) makes reading after the last id
/// read miss nothing. A node reads those committed after it started; maintenance prunes them after <see cref="Retention"/>.
/// </remarks>
internal sealed partial class ClusterSignals
{
    public const string SessionOpened = "session.opened";
    public const string SessionClosed = "session.closed";
    public const string SessionDisconnect = "session.disconnect";

    public static readonly TimeSpan Retention = TimeSpan.FromHours(1);

    private const int Page = 500;

    public static readonly JsonSerializerOptions PayloadOptions = new(JsonSerializerDefaults.Web);

    private readonly ISignalStore _store;
    private readonly SessionEvents _events;
    private readonly SessionManager _sessions;
    private readonly string _nodeId;
    private readonly ILogger<ClusterSignals> _logger;
    private long _after = -1;

    public ClusterSignals(ISignalStore store, SessionEvents events, SessionManager sessions, IOptions<NodeOptions> node, ILogger<ClusterSignals> logger)
    {
        _store = store;
        _events = events;
        _sessions = sessions;
        _nodeId = node.Value.ResolvedId;
        _logger = logger;
    }

    /// <summary>Starts after the newest signal: what was signalled before this node started is not for it.</summary>
    public async Task InitializeAsync(CancellationToken cancellationToken) =>
        Volatile.Write(ref _after, await _store.HeadAsync(cancellationToken));

    /// <summary>Reads and handles the signals for this node committed since the last read.</summary>
    public async Task CatchUpAsync(CancellationToken cancellationToken)
    {
        if (Volatile.Read(ref _after) < 0)
        {
            return;
        }

        List<Signal> page;
        do
        {
            page = await _store.ReadAfterAsync(_after, _nodeId, Page, cancellationToken);
            foreach (var signal in page)
            {
                _after = signal.Id;
                await HandleAsync(signal.Kind, signal.Payload);
            }
        }
        while (page.Count == Page);
    }

    private async Task HandleAsync(string kind, string payload)
    {
        try
        {
            switch (kind)
            {
                case SessionOpened or SessionClosed:
                    await _events.SendLocalAsync(kind, JsonSerializer.Deserialize<SessionInfo>(payload, PayloadOptions)!);
                    break;
                case SessionDisconnect:
                    var request = JsonSerializer.Deserialize<DisconnectRequest>(payload, PayloadOptions)!;
                    // Not awaited: the close waits for a session write, and events must not wait behind it.
                    _ = CloseAsync(request);
                    break;
            }
        }
        catch (Exception exception) when (exception is not OperationCanceledException)
        {
            // A signal this node cannot act on (unreadable, or a send that failed) is skipped: it must never stop the
            // follower, which delivers events on the same loop.
            LogUnreadable(exception, kind);
        }
    }

    private async Task CloseAsync(DisconnectRequest request)
    {
        try
        {
            if (await _sessions.CloseLiveAsync(request.SessionId, HubErrorCodes.DisconnectedByAdmin, request.Reason, CancellationToken.None))
            {
                LogClosedForPeer(request.SessionId);
            }
        }
        catch (Exception exception) when (exception is System.Data.Common.DbException or InvalidOperationException)
        {
            LogCloseFailed(exception, request.SessionId);
        }
    }

    /// <summary>An admin's disconnect of a session held by another node, for that node.</summary>
    public sealed record DisconnectRequest(string SessionId, string Reason);

    [LoggerMessage(EventId = 3701, Level = LogLevel.Warning, Message = "A {Kind} signal could not be handled; skipped")]
    private partial void LogUnreadable(Exception exception, string kind);

    [LoggerMessage(EventId = 3702, Level = LogLevel.Information, Message = "Session {SessionId} disconnected by an admin on another node")]
    private partial void LogClosedForPeer(string sessionId);

    [LoggerMessage(EventId = 3703, Level = LogLevel.Warning, Message = "Session {SessionId}: another node's disconnect could not be written here")]
    private partial void LogCloseFailed(Exception exception, string sessionId);
}
