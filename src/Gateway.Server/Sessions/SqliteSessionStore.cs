using System.Data.Common;
using Gateway.Contracts;
using Gateway.Data.Conversion;
using Gateway.Server.Database;
using Microsoft.Data.Sqlite;

namespace Gateway.Server.Sessions;

/// <summary>
/// The sessions table on SQLite; all of Gateway's SQL over it. The per-user check and the insert run inside the
/// writer's transaction, and SQLite's single write lock serialises them across every node.
/// </summary>
internal sealed class SqliteSessionStore : ISessionStore
{
    /// <summary>The SET list of every close; parameters <c>$now</c>, <c>$reason</c> and <c>$message</c> (NULL: none).</summary>
    private const string CloseSet =
        """
        is_active = 0, updated_at = $now,
        metadata = json_set(CASE WHEN json_valid(metadata) THEN metadata ELSE '{}' END,
                            '$.closeReason', $reason, '$.closedAt', $now, '$.closeMessage', $message)
        """;

    /// <summary>The node a row's metadata names; NULL for invalid metadata.</summary>
    private const string NodeOfRow = "CASE WHEN json_valid(metadata) THEN json_extract(metadata, '$.nodeId') END";

    private const string Returning = "RETURNING id, client_id, user_id, connection_type, metadata, created_at, last_heartbeat";

    private readonly DatabaseLocation _database;

    public SqliteSessionStore(DatabaseLocation database) => _database = database;

    public async Task<ISessionStoreConnection> ConnectAsync(CancellationToken cancellationToken)
    {
        var connection = new SqliteConnection(_database.ConnectionString);
        try
        {
            await connection.OpenAsync(cancellationToken);
            SqliteBusyTimeout.Apply(connection);
            await using var pragma = connection.CreateCommand();
            // WAL (set in the file) with NORMAL: commits are atomic and durable across a process crash.
            pragma.CommandText = "PRAGMA synchronous = NORMAL;";
            await pragma.ExecuteNonQueryAsync(cancellationToken);
            return new Connection(connection);
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    public async Task<Dictionary<string, long>> ActiveByNodeAsync(CancellationToken cancellationToken)
    {
        await using var connection = new SqliteConnection(_database.ConnectionString);
        await connection.OpenAsync(cancellationToken);
        await using var count = connection.CreateCommand();
        count.CommandText = $"SELECT node, count(*) FROM (SELECT {NodeOfRow} AS node FROM sessions WHERE is_active = 1) WHERE node IS NOT NULL GROUP BY node";
        var sessions = new Dictionary<string, long>(StringComparer.Ordinal);
        await using var reader = await count.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            sessions[reader.GetString(0)] = reader.GetInt64(1);
        }

        return sessions;
    }

    private sealed class Connection(SqliteConnection connection) : ISessionStoreConnection
    {
        public async Task<ISessionTransaction> BeginAsync(CancellationToken cancellationToken) =>
            new Batch(connection, (SqliteTransaction)await connection.BeginTransactionAsync(cancellationToken));

        public ValueTask DisposeAsync() => connection.DisposeAsync();
    }

    /// <summary>One batch, its statements prepared once and reused for every row of the batch.</summary>
    private sealed class Batch(SqliteConnection connection, SqliteTransaction transaction) : ISessionTransaction
    {
        private SqliteCommand? _insert;
        private SqliteCommand? _close;
        private SqliteCommand? _heartbeat;
        private SqliteCommand? _countUser;

        public DbConnection Connection => connection;

        public DbTransaction Transaction => transaction;

        public Task<int> HeartbeatAsync(string sessionId, DateTime at, CancellationToken cancellationToken)
        {
            // Setting updated_at here keeps the AFTER UPDATE trigger from running a second UPDATE per row.
            _heartbeat ??= Prepare(
                "UPDATE sessions SET last_heartbeat = $at, updated_at = $at WHERE id = $id AND is_active = 1 AND last_heartbeat < $at", "$id", "$at");
            _heartbeat.Parameters["$id"].Value = sessionId;
            _heartbeat.Parameters["$at"].Value = UtcDateTimeConverter.Format(at);
            return _heartbeat.ExecuteNonQueryAsync(cancellationToken);
        }

        public async Task<bool> OpenAsync(SessionRow row, DateTime liveSince, CancellationToken cancellationToken)
        {
            if (row.MaxUserSessions is { } max)
            {
                // Active sessions of the user on every live node (registry rows beaten since $cutoff), this one's included.
                _countUser ??= Prepare(
                    $"""
                     SELECT count(*) FROM sessions
                     WHERE is_active = 1 AND user_id IS $user AND {NodeOfRow} IN (SELECT id FROM gateway_nodes WHERE last_seen >= $cutoff)
                     """,
                    "$user", "$cutoff");
                _countUser.Parameters["$user"].Value = (object?)row.UserId ?? DBNull.Value;
                _countUser.Parameters["$cutoff"].Value = UtcDateTimeConverter.Format(liveSince);
                if ((long)(await _countUser.ExecuteScalarAsync(cancellationToken))! >= max)
                {
                    return false;
                }
            }

            _insert ??= Prepare(
                """
                INSERT INTO sessions (id, client_id, user_id, connection_type, is_active, metadata, created_at, updated_at, last_heartbeat)
                VALUES ($id, $client, $user, $type, $active, $metadata, $at, $at, $at)
                """,
                "$id", "$client", "$user", "$type", "$active", "$metadata", "$at");
            _insert.Parameters["$id"].Value = row.Id;
            _insert.Parameters["$client"].Value = row.ClientId;
            _insert.Parameters["$user"].Value = (object?)row.UserId ?? DBNull.Value;
            _insert.Parameters["$type"].Value = row.ConnectionType;
            _insert.Parameters["$active"].Value = row.IsActive ? 1 : 0;
            _insert.Parameters["$metadata"].Value = row.Metadata;
            _insert.Parameters["$at"].Value = UtcDateTimeConverter.Format(row.At);
            await _insert.ExecuteNonQueryAsync(cancellationToken);
            return true;
        }

        public async Task<bool> CloseAsync(string sessionId, string reason, string? message, DateTime at, CancellationToken cancellationToken)
        {
            _close ??= Prepare($"UPDATE sessions SET {CloseSet} WHERE id = $id AND is_active = 1", "$id", "$reason", "$message", "$now");
            _close.Parameters["$id"].Value = sessionId;
            SetClose(_close, reason, message, at);
            return await _close.ExecuteNonQueryAsync(cancellationToken) == 1;
        }

        public async Task<List<SessionInfo>> CloseNodeAsync(string nodeId, string reason, DateTime at, CancellationToken cancellationToken)
        {
            await using var command = Prepare($"UPDATE sessions SET {CloseSet} WHERE is_active = 1 AND {NodeOfRow} = $node {Returning}", "$node", "$reason", "$message", "$now");
            command.Parameters["$node"].Value = nodeId;
            SetClose(command, reason, message: null, at);
            var closed = new List<SessionInfo>();
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                closed.Add(ReadClosed(reader, at));
            }

            return closed;
        }

        public async Task<List<SessionInfo>> ReapAsync(DateTime cutoff, Func<string, bool> keep, DateTime at, CancellationToken cancellationToken)
        {
            var candidates = new List<string>();
            await using (var select = Prepare("SELECT id FROM sessions WHERE is_active = 1 AND last_heartbeat < $cutoff", "$cutoff"))
            {
                select.Parameters["$cutoff"].Value = UtcDateTimeConverter.Format(cutoff);
                await using var reader = await select.ExecuteReaderAsync(cancellationToken);
                while (await reader.ReadAsync(cancellationToken))
                {
                    candidates.Add(reader.GetString(0));
                }
            }

            var closed = new List<SessionInfo>();
            await using var update = Prepare($"UPDATE sessions SET {CloseSet} WHERE id = $id AND is_active = 1 {Returning}", "$id", "$reason", "$message", "$now");
            SetClose(update, CloseReasons.Stale, message: null, at);
            foreach (var candidate in candidates.Where(candidate => !keep(candidate)))
            {
                update.Parameters["$id"].Value = candidate;
                await using var reader = await update.ExecuteReaderAsync(cancellationToken);
                if (await reader.ReadAsync(cancellationToken))
                {
                    closed.Add(ReadClosed(reader, at));
                }
            }

            return closed;
        }

        public async Task<int> PruneAsync(DateTime cutoff, int chunk, CancellationToken cancellationToken)
        {
            await using var delete = Prepare(
                "DELETE FROM sessions WHERE id IN (SELECT id FROM sessions WHERE is_active = 0 AND updated_at < $cutoff LIMIT $chunk)", "$cutoff", "$chunk");
            delete.Parameters["$cutoff"].Value = UtcDateTimeConverter.Format(cutoff);
            delete.Parameters["$chunk"].Value = chunk;
            return await delete.ExecuteNonQueryAsync(cancellationToken);
        }

        public Task CommitAsync(CancellationToken cancellationToken) => transaction.CommitAsync(cancellationToken);

        public async ValueTask DisposeAsync()
        {
            _insert?.Dispose();
            _close?.Dispose();
            _heartbeat?.Dispose();
            _countUser?.Dispose();
            await transaction.DisposeAsync();
        }

        private static void SetClose(SqliteCommand command, string reason, string? message, DateTime at)
        {
            command.Parameters["$now"].Value = UtcDateTimeConverter.Format(at);
            command.Parameters["$reason"].Value = reason;
            command.Parameters["$message"].Value = (object?)message ?? DBNull.Value;
        }

        private static SessionInfo ReadClosed(SqliteDataReader reader, DateTime at) => new(
            reader.GetString(0),
            reader.GetString(1),
            reader.IsDBNull(2) ? null : reader.GetString(2),
            reader.GetString(3),
            IsActive: false,
            reader.IsDBNull(4) ? null : reader.GetString(4),
            UtcDateTimeConverter.Parse(reader.GetString(5)),
            at,
            UtcDateTimeConverter.Parse(reader.GetString(6)));

        private SqliteCommand Prepare(string sql, params string[] parameters)
        {
            var command = connection.CreateCommand();
            command.Transaction = transaction;
            command.CommandText = sql;
            foreach (var name in parameters)
            {
                command.Parameters.Add(new SqliteParameter { ParameterName = name });
            }

            command.Prepare();
            return command;
        }
    }
}
