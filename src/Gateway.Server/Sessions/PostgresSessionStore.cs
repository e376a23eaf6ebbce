using System.Data.Common;
using Gateway.Contracts;
using Gateway.Data.Conversion;
using Gateway.Server.Database;
using Npgsql;
using NpgsqlTypes;

namespace Gateway.Server.Sessions;

/// <summary>
/// The sessions table on PostgreSQL; all of Gateway's SQL over it there. Metadata is JSON text (the column is TEXT):
/// a close rewrites it through <c>jsonb</c>, which may reorder its keys. The per-user check takes a transaction-scoped
/// advisory lock on the user first, so writers on every node check and insert one at a time for that user (READ
/// COMMITTED alone would let two of them count the same sessions and both insert).
/// </summary>
internal sealed class PostgresSessionStore : ISessionStore
{
    /// <summary>The SET list of every close; parameters <c>@now</c> (timestamptz), <c>@nowText</c>, <c>@reason</c> and <c>@message</c>.</summary>
    private const string CloseSet =
        """
        is_active = FALSE, updated_at = @now,
        metadata = ((CASE WHEN json_valid(metadata) AND left(ltrim(metadata), 1) = '{' THEN metadata::jsonb ELSE '{}'::jsonb END)
                    || jsonb_build_object('closeReason', @reason::text, 'closedAt', @nowText::text, 'closeMessage', @message::text))::text
        """;

    /// <summary>The node a row's metadata names; NULL for invalid metadata.</summary>
    private const string NodeOfRow = "(CASE WHEN json_valid(metadata) AND left(ltrim(metadata), 1) = '{' THEN metadata::jsonb ->> 'nodeId' END)";

    private const string Returning = "RETURNING id, client_id, user_id, connection_type, metadata, created_at, last_heartbeat";

    private readonly NpgsqlDataSource _dataSource;

    public PostgresSessionStore(NpgsqlDataSource dataSource) => _dataSource = dataSource;

    public async Task<ISessionStoreConnection> ConnectAsync(CancellationToken cancellationToken) =>
        new Connection(await _dataSource.OpenConnectionAsync(cancellationToken));

    public async Task<Dictionary<string, long>> ActiveByNodeAsync(CancellationToken cancellationToken)
    {
        await using var count = _dataSource.CreateCommand($"SELECT node, count(*) FROM (SELECT {NodeOfRow} AS node FROM sessions WHERE is_active) AS active WHERE node IS NOT NULL GROUP BY node");
        var sessions = new Dictionary<string, long>(StringComparer.Ordinal);
        await using var reader = await count.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            sessions[reader.GetString(0)] = reader.GetInt64(1);
        }

        return sessions;
    }

    private static DateTime Stored(DateTime at) => UtcMicrosecondConverter.ToStore(at);

    private sealed class Connection(NpgsqlConnection connection) : ISessionStoreConnection
    {
        public async Task<ISessionTransaction> BeginAsync(CancellationToken cancellationToken) =>
            new Batch(connection, await connection.BeginTransactionAsync(cancellationToken));

        public ValueTask DisposeAsync() => connection.DisposeAsync();
    }

    private sealed class Batch(NpgsqlConnection connection, NpgsqlTransaction transaction) : ISessionTransaction
    {
        public DbConnection Connection => connection;

        public DbTransaction Transaction => transaction;

        public async Task<int> HeartbeatAsync(string sessionId, DateTime at, CancellationToken cancellationToken)
        {
            await using var command = Command(
                "UPDATE sessions SET last_heartbeat = @at, updated_at = @at WHERE id = @id AND is_active AND last_heartbeat < @at");
            command.Parameters.AddWithValue("id", sessionId);
            command.Parameters.AddWithValue("at", NpgsqlDbType.TimestampTz, Stored(at));
            return await command.ExecuteNonQueryAsync(cancellationToken);
        }

        public async Task<bool> OpenAsync(SessionRow row, DateTime liveSince, CancellationToken cancellationToken)
        {
            if (row.MaxUserSessions is { } max)
            {
                await using var count = Command(
                    $"""
                     SELECT pg_advisory_xact_lock(hashtextextended('gateway.sessions.user:' || COALESCE(@user, ''), 0));
                     SELECT count(*) FROM sessions
                     WHERE is_active AND user_id IS NOT DISTINCT FROM @user AND {NodeOfRow} IN (SELECT id FROM gateway_nodes WHERE last_seen >= @cutoff)
                     """);
                count.Parameters.AddWithValue("user", NpgsqlDbType.Text, (object?)row.UserId ?? DBNull.Value);
                count.Parameters.AddWithValue("cutoff", NpgsqlDbType.TimestampTz, Stored(liveSince));
                await using var reader = await count.ExecuteReaderAsync(cancellationToken);
                await reader.NextResultAsync(cancellationToken);
                await reader.ReadAsync(cancellationToken);
                if (reader.GetInt64(0) >= max)
                {
                    return false;
                }
            }

            await using var insert = Command(
                """
                INSERT INTO sessions (id, client_id, user_id, connection_type, is_active, metadata, created_at, updated_at, last_heartbeat)
                VALUES (@id, @client, @user, @type, @active, @metadata, @at, @at, @at)
                """);
            insert.Parameters.AddWithValue("id", row.Id);
            insert.Parameters.AddWithValue("client", row.ClientId);
            insert.Parameters.AddWithValue("user", NpgsqlDbType.Text, (object?)row.UserId ?? DBNull.Value);
            insert.Parameters.AddWithValue("type", row.ConnectionType);
            insert.Parameters.AddWithValue("active", row.IsActive);
            insert.Parameters.AddWithValue("metadata", row.Metadata);
            insert.Parameters.AddWithValue("at", NpgsqlDbType.TimestampTz, Stored(row.At));
            await insert.ExecuteNonQueryAsync(cancellationToken);
            return true;
        }

        public async Task<bool> CloseAsync(string sessionId, string reason, string? message, DateTime at, CancellationToken cancellationToken)
        {
            await using var close = Command($"UPDATE sessions SET {CloseSet} WHERE id = @id AND is_active");
            close.Parameters.AddWithValue("id", sessionId);
            SetClose(close, reason, message, at);
            return await close.ExecuteNonQueryAsync(cancellationToken) == 1;
        }

        public async Task<List<SessionInfo>> CloseNodeAsync(string nodeId, string reason, DateTime at, CancellationToken cancellationToken)
        {
            await using var command = Command($"UPDATE sessions SET {CloseSet} WHERE is_active AND {NodeOfRow} = @node {Returning}");
            command.Parameters.AddWithValue("node", nodeId);
            SetClose(command, reason, message: null, at);
            return await ReadClosedAsync(command, at, cancellationToken);
        }

        public async Task<List<SessionInfo>> ReapAsync(DateTime cutoff, Func<string, bool> keep, DateTime at, CancellationToken cancellationToken)
        {
            var candidates = new List<string>();
            await using (var select = Command("SELECT id FROM sessions WHERE is_active AND last_heartbeat < @cutoff"))
            {
                select.Parameters.AddWithValue("cutoff", NpgsqlDbType.TimestampTz, Stored(cutoff));
                await using var reader = await select.ExecuteReaderAsync(cancellationToken);
                while (await reader.ReadAsync(cancellationToken))
                {
                    candidates.Add(reader.GetString(0));
                }
            }

            var reaped = candidates.Where(candidate => !keep(candidate)).ToArray();
            if (reaped.Length == 0)
            {
                return [];
            }

            await using var update = Command($"UPDATE sessions SET {CloseSet} WHERE id = ANY(@ids) AND is_active {Returning}");
            update.Parameters.AddWithValue("ids", reaped);
            SetClose(update, CloseReasons.Stale, message: null, at);
            return await ReadClosedAsync(update, at, cancellationToken);
        }

        public async Task<int> PruneAsync(DateTime cutoff, int chunk, CancellationToken cancellationToken)
        {
            await using var delete = Command(
                "DELETE FROM sessions WHERE id IN (SELECT id FROM sessions WHERE NOT is_active AND updated_at < @cutoff LIMIT @chunk)");
            delete.Parameters.AddWithValue("cutoff", NpgsqlDbType.TimestampTz, Stored(cutoff));
            delete.Parameters.AddWithValue("chunk", chunk);
            return await delete.ExecuteNonQueryAsync(cancellationToken);
        }

        public Task CommitAsync(CancellationToken cancellationToken) => transaction.CommitAsync(cancellationToken);

        public ValueTask DisposeAsync() => transaction.DisposeAsync();

        private static void SetClose(NpgsqlCommand command, string reason, string? message, DateTime at)
        {
            command.Parameters.AddWithValue("now", NpgsqlDbType.TimestampTz, Stored(at));
            // The same text as on SQLite, so closedAt reads alike whatever the provider.
            command.Parameters.AddWithValue("nowText", UtcDateTimeConverter.Format(Stored(at)));
            command.Parameters.AddWithValue("reason", reason);
            command.Parameters.AddWithValue("message", NpgsqlDbType.Text, (object?)message ?? DBNull.Value);
        }

        private static async Task<List<SessionInfo>> ReadClosedAsync(NpgsqlCommand command, DateTime at, CancellationToken cancellationToken)
        {
            var closed = new List<SessionInfo>();
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                closed.Add(new SessionInfo(
                    reader.GetString(0),
                    reader.GetString(1),
                    reader.IsDBNull(2) ? null : reader.GetString(2),
                    reader.GetString(3),
                    IsActive: false,
                    reader.IsDBNull(4) ? null : reader.GetString(4),
                    reader.GetFieldValue<DateTime>(5),
                    Stored(at),
                    reader.GetFieldValue<DateTime>(6)));
            }

            return closed;
        }

        private NpgsqlCommand Command(string sql) => new(sql, connection, transaction);
    }
}
