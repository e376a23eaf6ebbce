using System.Text.Json;
using Gateway.Contracts;
using Gateway.Server.Hubs;
using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.Options;

namespace Gateway.Server.Sessions;

/// <summary>
/// Sends session.opened / session.closed to the admins who subscribed, on every node: this node's admins at once,
/// the other nodes' through a signal in the shared database (<see cref="Cluster.ClusterSignals"/>), queued in order
/// behind the session writes. Never throws: a failed send to one client is SignalR's to handle, a signal that cannot
/// be written is logged.
/// </summary>
internal sealed partial class SessionEvents
{
    /// <summary>The SignalR group of admins subscribed to session events.</summary>
    public const string AdminGroup = "admin:sessions";

    private readonly IHubContext<GatewayHub, IGatewayClient> _hub;
    private readonly RealtimeStats _stats;
    private readonly SessionWriter _writer;
    private readonly Cluster.ISignalStore _signals;
    private readonly string _nodeId;
    private readonly TimeProvider _time;
    private readonly ILogger<SessionEvents> _logger;

    public SessionEvents(
        IHubContext<GatewayHub, IGatewayClient> hub, RealtimeStats stats, SessionWriter writer, Cluster.ISignalStore signals, IOptions<NodeOptions> node, TimeProvider time, ILogger<SessionEvents> logger)
    {
        _hub = hub;
        _stats = stats;
        _writer = writer;
        _signals = signals;
        _nodeId = node.Value.ResolvedId;
        _time = time;
        _logger = logger;
    }

    public Task OpenedAsync(SessionInfo session) => AnnounceAsync(Cluster.ClusterSignals.SessionOpened, session);

    public Task ClosedAsync(SessionInfo session) => AnnounceAsync(Cluster.ClusterSignals.SessionClosed, session);

    /// <summary>Sends to this node's admins only: an announcement another node signalled.</summary>
    public async Task SendLocalAsync(string kind, SessionInfo session)
    {
        var group = _hub.Clients.Group(AdminGroup);
        await (kind == Cluster.ClusterSignals.SessionOpened ? group.SessionOpened(session) : group.SessionClosed(session));
        _stats.MessagesSent(1);
    }

    private async Task AnnounceAsync(string kind, SessionInfo session)
    {
        var payload = JsonSerializer.Serialize(session, Cluster.ClusterSignals.PayloadOptions);
        // Not awaited: an announcement must not hold up the connection it is about; the writer keeps queue order.
        var signal = new Cluster.Signal(0, kind, _nodeId, TargetNode: null, payload, _time.GetUtcNow().UtcDateTime);
        _ = _writer.TryExecuteAsync((transaction, token) => _signals.InsertAsync(transaction, signal, token))
            .ContinueWith(
                failed => LogSignalFailed(failed.Exception!.GetBaseException(), kind, session.Id),
                CancellationToken.None,
                TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously,
                TaskScheduler.Default);
        await SendLocalAsync(kind, session);
    }

    [LoggerMessage(EventId = 3106, Level = LogLevel.Warning, Message = "The {Kind} announcement of session {SessionId} could not reach the other nodes")]
    private partial void LogSignalFailed(Exception exception, string kind, string sessionId);
}
