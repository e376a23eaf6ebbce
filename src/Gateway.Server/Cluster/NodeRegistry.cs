using System.Data.Common;
using System.Reflection;
using Gateway.Contracts;
using Gateway.Data.Conversion;
using Gateway.Server.Database;
using Gateway.Server.Sessions;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Options;

namespace Gateway.Server.Cluster;

/// <summary>A node as admins see it (<c>GET /api/nodes</c>).</summary>
/// <param name="Live">Beaten within Node:LostAfterSeconds.</param>
/// <param name="ActiveSessions">Active session rows that name this node.</param>
/// <param name="Answering">The node that answered the request.</param>
internal sealed record NodeStatus(string Id, string Version, string? Address, DateTime StartedAt, DateTime LastSeen, bool Live, long ActiveSessions, bool Answering);

/// <summary>A row of the node registry.</summary>
internal sealed record NodeRecord(string Id, string InstanceId, string Version, string? Address, DateTime StartedAt, DateTime LastSeen);

/// <summary>
/// This node's row in the registry (<c>gateway_nodes</c>): claimed before the server listens (a second live process
/// with the same <c>Node:Id</c> is refused), beaten every <see cref="NodeOptions.HeartbeatInterval"/>, deleted on a
/// graceful stop. Each beat also looks for lost peers: a row unbeaten for <see cref="NodeOptions.LostAfter"/> is
/// deleted and its node's active sessions closed (<c>node_lost</c>) and announced, in one transaction, so exactly one
/// live peer does it.
/// </summary>
/// <remarks>
/// Times are the nodes' own clocks (as every other timestamp of the schema): nodes sharing a database must agree on
/// the time within a fraction of <see cref="NodeOptions.LostAfter"/>, which one machine (SQLite) always does.
/// Registered after the session writer: beats and the final delete go through it, and it stops after this.
/// </remarks>
internal sealed partial class NodeRegistry : BackgroundService
{
    private static readonly string Version =
        typeof(NodeRegistry).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "unknown";

    private readonly DatabaseConnections _connections;
    private readonly SessionWriter _writer;
    private readonly ISessionStore _store;
    private readonly SessionManager _sessions;
    private readonly SessionEvents _events;
    private readonly ClusterSignals _signals;
    private readonly NodeOptions _options;
    private readonly TimeProvider _time;
    private readonly IServer _server;
    private readonly IHostApplicationLifetime _lifetime;
    private readonly ILogger<NodeRegistry> _logger;
    private readonly NodeStanding _standing;
    private volatile bool _claimed;
    private bool _failing;
    private DateTimeOffset _judgesPeersFrom = DateTimeOffset.MinValue;

    public NodeRegistry(
        DatabaseConnections connections,
        SessionWriter writer,
        ISessionStore store,
        SessionManager sessions,
        SessionEvents events,
        ClusterSignals signals,
        IOptions<NodeOptions> options,
        TimeProvider time,
        IServer server,
        IHostApplicationLifetime lifetime,
        NodeStanding standing,
        ILogger<NodeRegistry> logger)
    {
        _standing = standing;
        _connections = connections;
        _writer = writer;
        _store = store;
        _sessions = sessions;
        _events = events;
        _signals = signals;
        _options = options.Value;
        _time = time;
        _server = server;
        _lifetime = lifetime;
        _logger = logger;
        NodeId = _options.ResolvedId;
    }

    public string NodeId { get; }

    /// <summary>Distinguishes this process from earlier and later runs of the same node.</summary>
    public string InstanceId { get; } = Guid.NewGuid().ToString("N");

    /// <summary>
    /// Takes this node's row before the server listens. A row beaten within <see cref="NodeOptions.LostAfter"/> may be a
    /// live process or one that was just killed: the registry watches it for a beat and a half, and refuses to start if
    /// it is still beaten (or was claimed meanwhile). False: do not start; the reason is logged.
    /// </summary>
    public async Task<bool> ClaimAsync(CancellationToken cancellationToken)
    {
        await using var connection = await _connections.OpenAsync(cancellationToken);
        var seen = await FindAsync(connection, NodeId, cancellationToken);
        if (seen is not null && IsLive(seen))
        {
            LogWaitingForHolder(NodeId, seen.LastSeen);
            await Task.Delay(_options.HeartbeatInterval * 1.5 + TimeSpan.FromMilliseconds(100), _time, cancellationToken);
            var now = await FindAsync(connection, NodeId, cancellationToken);
            if (now is not null && (now.InstanceId != seen.InstanceId || now.LastSeen != seen.LastSeen))
            {
                LogHeld(NodeId, now.Address ?? "an unknown address", now.StartedAt, now.LastSeen, now.Version);
                return false;
            }

            seen = now;
        }

        var at = _time.GetUtcNow().UtcDateTime;
        // Taken only if the row is still what was looked at: another process claiming it meanwhile wins.
        await using var command = connection.Command(seen is null
            ? "INSERT INTO gateway_nodes (id, instance_id, version, address, started_at, last_seen) VALUES (@id, @instance, @version, @address, @at, @at) ON CONFLICT (id) DO NOTHING"
            : """
              UPDATE gateway_nodes SET instance_id = @instance, version = @version, address = @address, started_at = @at, last_seen = @at
              WHERE id = @id AND instance_id = @seenInstance AND last_seen = @seenAt
              """)
            .With("@id", NodeId).With("@instance", InstanceId).With("@version", Version)
            .With("@address", string.IsNullOrEmpty(_options.Address) ? null : _options.Address).With("@at", _connections.Timestamp(at));
        if (seen is not null)
        {
            command.With("@seenInstance", seen.InstanceId).With("@seenAt", _connections.Timestamp(seen.LastSeen));
        }

        if (await command.ExecuteNonQueryAsync(cancellationToken) == 0)
        {
            var holder = await FindAsync(connection, NodeId, cancellationToken);
            LogHeld(NodeId, holder?.Address ?? "an unknown address", holder?.StartedAt ?? at, holder?.LastSeen ?? at, holder?.Version ?? "unknown");
            return false;
        }

        if (seen is not null)
        {
            LogTookOver(NodeId, seen.LastSeen);
        }

        await _signals.InitializeAsync(cancellationToken);
        _standing.Beaten();
        _claimed = true;
        return true;
    }

    /// <summary>The registry row of a node, read now; null when it has none (stopped, lost, or never registered).</summary>
    public async Task<NodeRecord?> FindAsync(string nodeId, CancellationToken cancellationToken)
    {
        await using var connection = await _connections.OpenAsync(cancellationToken);
        return await FindAsync(connection, nodeId, cancellationToken);
    }

    /// <summary>Every node in the registry with its active sessions, for admins; a node past LostAfter shows as not live until a peer removes it.</summary>
    public async Task<List<NodeStatus>> ListAsync(CancellationToken cancellationToken)
    {
        await using var connection = await _connections.OpenAsync(cancellationToken);
        await using var select = connection.Command($"SELECT {Columns} FROM gateway_nodes ORDER BY id");
        var nodes = await ReadAllAsync(select, cancellationToken);
        var sessions = await _store.ActiveByNodeAsync(cancellationToken);
        return nodes.Select(node => new NodeStatus(
            node.Id, node.Version, node.Address, node.StartedAt, node.LastSeen, IsLive(node), sessions.GetValueOrDefault(node.Id), node.Id == NodeId)).ToList();
    }

    /// <summary>Beaten within <see cref="NodeOptions.LostAfter"/>.</summary>
    public bool IsLive(NodeRecord node) => node.LastSeen >= _time.GetUtcNow().UtcDateTime - _options.LostAfter;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!_claimed)
        {
            return;
        }

        var watching = _connections.IsPostgres ? WatchAsync(stoppingToken) : Task.CompletedTask;
        using var timer = new PeriodicTimer(_options.HeartbeatInterval, _time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                try
                {
                    // Back from a time without the database (down, cut off, this process paused): the peers may have
                    // been away for the same reason and not have beaten yet. They get Node:LostAfterSeconds to do so
                    // before this node declares any of them lost, so that an outage of the database does not end in
                    // every node closing every other node's sessions.
                    if (_failing || (_standing.LastBeat is { } last && _time.GetUtcNow() - last > CutOffAfter))
                    {
                        _judgesPeersFrom = _time.GetUtcNow() + _options.LostAfter;
                    }

                    // Bounded: a connection that hangs (a cut network drops packets, refuses nothing) must not stop the beats.
                    using var bounded = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
                    bounded.CancelAfter(CutOffAfter);
                    await BeatAsync(bounded.Token);
                    _failing = false;
                    _standing.Beaten();
                    if (_standing.Reconnected())
                    {
                        LogReconnected(NodeId);
                    }
                }
                catch (OperationCanceledException) when (!stoppingToken.IsCancellationRequested)
                {
                    if (!_failing)
                    {
                        _failing = true;
                        LogBeatFailed(new TimeoutException($"no answer from the database within {CutOffAfter.TotalSeconds} s"));
                    }
                }
                catch (Exception exception) when (exception is DbException or InvalidOperationException or TimeoutException)
                {
                    // Peers declare this node lost if it stays so; readiness reports the database itself.
                    if (!_failing)
                    {
                        _failing = true;
                        LogBeatFailed(exception);
                    }
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }

        await watching;
    }

    /// <summary>
    /// A node on PostgreSQL that has not reached the database for half of <see cref="NodeOptions.LostAfter"/> is cut
    /// off: peers will soon declare it lost, and it can neither deliver what they commit nor keep its sessions. It stops
    /// serving before that: readiness fails, its clients are told to reconnect (a balancer sends them to a node that
    /// reaches the database) and new connections are refused, until a beat gets through again. SQLite is a local file
    /// and has no such fault: its storage faults are reported as they are, and its clients stay.
    /// </summary>
    private TimeSpan CutOffAfter => _options.LostAfter / 2;

    private async Task WatchAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(_options.HeartbeatInterval / 2, _time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                if (_standing.LastBeat is { } last && _time.GetUtcNow() - last > CutOffAfter && _standing.CutOff())
                {
                    LogCutOff(NodeId, last);
                    await _sessions.ReconnectAllAsync(HubErrorCodes.NodeUnavailable, "this gateway node cannot reach its database; reconnect (to another node)");
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        if (!_claimed)
        {
            return;
        }

        try
        {
            using var budget = new CancellationTokenSource(TimeSpan.FromSeconds(2), _time);
            await _writer.ExecuteAsync(
                async (transaction, token) =>
                {
                    await using var delete = transaction.Connection.Command("DELETE FROM gateway_nodes WHERE id = @id AND instance_id = @instance", transaction.Transaction)
                        .With("@id", NodeId).With("@instance", InstanceId);
                    return await delete.ExecuteNonQueryAsync(token);
                },
                budget.Token);
        }
        catch (Exception exception) when (exception is OperationCanceledException or DbException or InvalidOperationException)
        {
            // The row stays until it ages past Node:LostAfterSeconds; the next start of this node takes it over.
            LogReleaseFailed(exception, NodeId);
        }
    }

    /// <summary>One beat: this node's row, then the lost peers. Internal for tests that beat on demand.</summary>
    internal async Task BeatAsync(CancellationToken cancellationToken)
    {
        var now = _time.GetUtcNow().UtcDateTime;
        var address = string.IsNullOrEmpty(_options.Address)
            ? _server.Features.Get<IServerAddressesFeature>()?.Addresses.FirstOrDefault()
            : _options.Address;
        var beat = await _writer.ExecuteAsync(
            async (transaction, token) =>
            {
                var (connection, within) = (transaction.Connection, transaction.Transaction);
                var own = await BeatOwnAsync(connection, within, now, address, token);
                var lost = new List<(NodeRecord Node, List<SessionInfo> Sessions)>();
                var peers = _time.GetUtcNow() >= _judgesPeersFrom ? await LostPeersAsync(connection, within, now - _options.LostAfter, token) : [];
                foreach (var peer in peers)
                {
                    await using var delete = connection.Command("DELETE FROM gateway_nodes WHERE id = @id AND last_seen = @seen", within)
                        .With("@id", peer.Id).With("@seen", _connections.Timestamp(peer.LastSeen));
                    if (await delete.ExecuteNonQueryAsync(token) == 1)
                    {
                        lost.Add((peer, await transaction.CloseNodeAsync(peer.Id, CloseReasons.NodeLost, now, token)));
                    }
                }

                return (own, lost);
            },
            cancellationToken);

        foreach (var (node, sessions) in beat.lost)
        {
            LogPeerLost(node.Id, node.LastSeen, sessions.Count);
            foreach (var session in sessions)
            {
                await _events.ClosedAsync(session);
            }
        }

        switch (beat.own)
        {
            case OwnBeat.TakenOver:
                LogTakenOver(NodeId);
                _lifetime.StopApplication();
                break;
            case OwnBeat.Reregistered:
                // Peers closed this node's sessions: its clients reconnect and get fresh ones.
                LogDeclaredLost(NodeId);
                await _sessions.ReconnectAllAsync(HubErrorCodes.NodeLost, "this gateway node lost its place in the cluster; reconnect");
                break;
        }
    }

    private async Task<OwnBeat> BeatOwnAsync(DbConnection connection, DbTransaction transaction, DateTime now, string? address, CancellationToken token)
    {
        await using (var update = connection.Command(
            "UPDATE gateway_nodes SET last_seen = @now, address = COALESCE(@address, address) WHERE id = @id AND instance_id = @instance", transaction)
            .With("@now", _connections.Timestamp(now)).With("@address", address).With("@id", NodeId).With("@instance", InstanceId))
        {
            if (await update.ExecuteNonQueryAsync(token) == 1)
            {
                return OwnBeat.Beaten;
            }
        }

        if (await FindAsync(connection, NodeId, token, transaction) is not null)
        {
            return OwnBeat.TakenOver;
        }

        await using var insert = connection.Command(
                "INSERT INTO gateway_nodes (id, instance_id, version, address, started_at, last_seen) VALUES (@id, @instance, @version, @address, @now, @now)", transaction)
            .With("@id", NodeId).With("@instance", InstanceId).With("@version", Version).With("@address", address).With("@now", _connections.Timestamp(now));
        await insert.ExecuteNonQueryAsync(token);
        return OwnBeat.Reregistered;
    }

    private async Task<List<NodeRecord>> LostPeersAsync(DbConnection connection, DbTransaction transaction, DateTime cutoff, CancellationToken token)
    {
        await using var select = connection.Command($"SELECT {Columns} FROM gateway_nodes WHERE id <> @id AND last_seen < @cutoff", transaction)
            .With("@id", NodeId).With("@cutoff", _connections.Timestamp(cutoff));
        return await ReadAllAsync(select, token);
    }

    private const string Columns = "id, instance_id, version, address, started_at, last_seen";

    private async Task<NodeRecord?> FindAsync(DbConnection connection, string nodeId, CancellationToken token, DbTransaction? transaction = null)
    {
        await using var select = connection.Command($"SELECT {Columns} FROM gateway_nodes WHERE id = @id", transaction).With("@id", nodeId);
        return (await ReadAllAsync(select, token)).FirstOrDefault();
    }

    private async Task<List<NodeRecord>> ReadAllAsync(DbCommand select, CancellationToken token)
    {
        var nodes = new List<NodeRecord>();
        await using var reader = await select.ExecuteReaderAsync(token);
        while (await reader.ReadAsync(token))
        {
            nodes.Add(new NodeRecord(
                reader.GetString(0),
                reader.GetString(1),
                reader.GetString(2),
                reader.IsDBNull(3) ? null : reader.GetString(3),
                _connections.ReadTimestamp(reader, 4),
                _connections.ReadTimestamp(reader, 5)));
        }

        return nodes;
    }

    private enum OwnBeat
    {
        Beaten,
        TakenOver,
        Reregistered,
    }

    [LoggerMessage(EventId = 3601, Level = LogLevel.Critical,
        Message = "Refusing to start: node id {NodeId} is held by a live process at {Address}, started {StartedAt:o}, last seen {LastSeen:o}, version {Version}. "
            + "Give this process another Node:Id, or stop the other one")]
    private partial void LogHeld(string nodeId, string address, DateTime startedAt, DateTime lastSeen, string version);

    [LoggerMessage(EventId = 3602, Level = LogLevel.Information, Message = "Node id {NodeId} was seen {LastSeen:o}; watching it for a beat before taking it over")]
    private partial void LogWaitingForHolder(string nodeId, DateTime lastSeen);

    [LoggerMessage(EventId = 3603, Level = LogLevel.Warning, Message = "Node {NodeId} took over its registry row from an earlier run (last seen {LastSeen:o})")]
    private partial void LogTookOver(string nodeId, DateTime lastSeen);

    [LoggerMessage(EventId = 3604, Level = LogLevel.Warning, Message = "Node {NodeId} lost: last seen {LastSeen:o}; closed its {Count} active sessions")]
    private partial void LogPeerLost(string nodeId, DateTime lastSeen, int count);

    [LoggerMessage(EventId = 3605, Level = LogLevel.Critical, Message = "Node {NodeId}: another process took over this node's registry row; stopping")]
    private partial void LogTakenOver(string nodeId);

    [LoggerMessage(EventId = 3606, Level = LogLevel.Error, Message = "Node {NodeId} was declared lost by a peer (its beats stopped); registered again, its clients reconnect")]
    private partial void LogDeclaredLost(string nodeId);

    [LoggerMessage(EventId = 3607, Level = LogLevel.Warning, Message = "Beating the node registry failed; trying again")]
    private partial void LogBeatFailed(Exception exception);

    [LoggerMessage(EventId = 3609, Level = LogLevel.Error,
        Message = "Node {NodeId} is cut off from the database (last beat {LastBeat:o}): not ready, its clients told to reconnect to another node, new connections refused")]
    private partial void LogCutOff(string nodeId, DateTimeOffset lastBeat);

    [LoggerMessage(EventId = 3610, Level = LogLevel.Information, Message = "Node {NodeId} reaches the database again and serves")]
    private partial void LogReconnected(string nodeId);

    [LoggerMessage(EventId = 3608, Level = LogLevel.Warning, Message = "Node {NodeId} could not delete its registry row while stopping; it ages out")]
    private partial void LogReleaseFailed(Exception exception, string nodeId);
}
