using System.Text.Json;
using Gateway.Contracts;
using Gateway.Data.Conversion;
using Gateway.Server.Database;
using Gateway.Server.Sessions;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Options;

namespace Gateway.Server.Cluster;

/// <summary>
/// Signals between nodes through the shared database (<c>gateway_signals</c>), so that a cluster needs nothing but
/// its database: session announcements for every node's admins, and an admin's disconnect for the node holding the
/// connection. Written in the writer's transactions; read by the event-log follower on the same wake-up as events
/// (another connection committed), in id order, each node skipping its own.
/// </summary>
/// <remarks>
/// Contract: ids increase in commit order (SQLite's write lock), so reading after the last id read misses nothing.
/// Signals are not a log clients resume from: a node reads those committed after it started, and maintenance prunes
/// them after <see cref="Retention"/>.
/// </remarks>
internal sealed partial class ClusterSignals
{
    public const string SessionOpened = "session.opened";
    public const string SessionClosed = "session.closed";
    public const string SessionDisconnect = "session.disconnect";

    public static readonly TimeSpan Retention = TimeSpan.FromHours(1);

    private const int Page = 500;

    public static readonly JsonSerializerOptions PayloadOptions = new(JsonSerializerDefaults.Web);

    private readonly DatabaseLocation _database;
    private readonly SessionEvents _events;
    private readonly SessionManager _sessions;
    private readonly string _nodeId;
    private readonly ILogger<ClusterSignals> _logger;
    private long _after = -1;

    public ClusterSignals(DatabaseLocation database, SessionEvents events, SessionManager sessions, IOptions<NodeOptions> node, ILogger<ClusterSignals> logger)
    {
        _database = database;
        _events = events;
        _sessions = sessions;
        _nodeId = node.Value.ResolvedId;
        _logger = logger;
    }

    /// <summary>Starts after the newest signal: what was signalled before this node started is not for it.</summary>
    public async Task InitializeAsync(SqliteConnection connection, CancellationToken cancellationToken)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT COALESCE(MAX(id), 0) FROM gateway_signals";
        Volatile.Write(ref _after, (long)(await command.ExecuteScalarAsync(cancellationToken))!);
    }

    /// <summary>Appends a signal inside a writer's transaction.</summary>
    public static async Task<int> InsertAsync(
        SqliteConnection connection, SqliteTransaction transaction, string kind, string originNode, string? targetNode, string payload, DateTime at, CancellationToken cancellationToken)
    {
        await using var insert = connection.CreateCommand();
        insert.Transaction = transaction;
        insert.CommandText = "INSERT INTO gateway_signals (kind, origin_node, target_node, payload, created_at) VALUES ($kind, $origin, $target, $payload, $at)";
        insert.Parameters.AddWithValue("$kind", kind);
        insert.Parameters.AddWithValue("$origin", originNode);
        insert.Parameters.AddWithValue("$target", (object?)targetNode ?? DBNull.Value);
        insert.Parameters.AddWithValue("$payload", payload);
        insert.Parameters.AddWithValue("$at", UtcDateTimeConverter.Format(at));
        return await insert.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>Deletes signals older than <see cref="Retention"/> inside a writer's transaction.</summary>
    public static async Task<int> PruneAsync(SqliteConnection connection, SqliteTransaction transaction, DateTime now, CancellationToken cancellationToken)
    {
        await using var delete = connection.CreateCommand();
        delete.Transaction = transaction;
        delete.CommandText = "DELETE FROM gateway_signals WHERE created_at < $cutoff";
        delete.Parameters.AddWithValue("$cutoff", UtcDateTimeConverter.Format(now - Retention));
        return await delete.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>Reads and handles the signals for this node committed since the last read.</summary>
    public async Task CatchUpAsync(CancellationToken cancellationToken)
    {
        if (Volatile.Read(ref _after) < 0)
        {
            return;
        }

        await using var connection = new SqliteConnection(_database.ConnectionString);
        await connection.OpenAsync(cancellationToken);
        await using var select = connection.CreateCommand();
        select.CommandText =
            """
            SELECT id, kind, payload FROM gateway_signals
            WHERE id > $after AND origin_node <> $node AND (target_node IS NULL OR target_node = $node)
            ORDER BY id LIMIT $page
            """;
        var after = select.Parameters.Add("$after", SqliteType.Integer);
        select.Parameters.AddWithValue("$node", _nodeId);
        select.Parameters.AddWithValue("$page", Page);
        int read;
        do
        {
            read = 0;
            after.Value = _after;
            await using var reader = await select.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                read++;
                _after = reader.GetInt64(0);
                await HandleAsync(reader.GetString(1), reader.GetString(2));
            }
        }
        while (read == Page);
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
        catch (Exception exception) when (exception is SqliteException or InvalidOperationException)
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
