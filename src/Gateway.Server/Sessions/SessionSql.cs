using Gateway.Contracts;
using Gateway.Data.Conversion;
using Microsoft.Data.Sqlite;

namespace Gateway.Server.Sessions;

/// <summary>
/// The SQL that closes sessions, in one place: one close, a node's sweep, the reaper and a lost node all set the same
/// columns under the same guard (<c>is_active = 1</c>: a session closes once, and a row some other writer left with
/// invalid metadata still closes, its metadata replaced by the close).
/// </summary>
internal static class SessionSql
{
    /// <summary>The SET list of a close; parameters <c>$now</c>, <c>$reason</c> and <c>$message</c> (NULL: none).</summary>
    public const string CloseSet =
        """
        is_active = 0, updated_at = $now,
        metadata = json_set(CASE WHEN json_valid(metadata) THEN metadata ELSE '{}' END,
                            '$.closeReason', $reason, '$.closedAt', $now, '$.closeMessage', $message)
        """;

    /// <summary>Rows of node <c>$node</c> (the id its metadata records; a row with invalid metadata belongs to no node).</summary>
    public const string OfNode = "CASE WHEN json_valid(metadata) THEN json_extract(metadata, '$.nodeId') END = $node";

    /// <summary>The columns <see cref="ReadClosed"/> reads.</summary>
    public const string Returning = "RETURNING id, client_id, user_id, connection_type, metadata, created_at, last_heartbeat";

    /// <summary>Closes every active session of one node; returns what was closed, for the announcements.</summary>
    public static async Task<List<SessionInfo>> CloseNodeAsync(
        SqliteConnection connection, SqliteTransaction transaction, string nodeId, string reason, DateTime now, CancellationToken cancellationToken)
    {
        await using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = $"UPDATE sessions SET {CloseSet} WHERE is_active = 1 AND {OfNode} {Returning}";
        AddClose(command, reason, message: null, now);
        command.Parameters.AddWithValue("$node", nodeId);
        var closed = new List<SessionInfo>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            closed.Add(ReadClosed(reader, now));
        }

        return closed;
    }

    public static void AddClose(SqliteCommand command, string reason, string? message, DateTime now)
    {
        command.Parameters.AddWithValue("$now", UtcDateTimeConverter.Format(now));
        command.Parameters.AddWithValue("$reason", reason);
        command.Parameters.AddWithValue("$message", (object?)message ?? DBNull.Value);
    }

    public static SessionInfo ReadClosed(SqliteDataReader reader, DateTime now) => new(
        reader.GetString(0),
        reader.GetString(1),
        reader.IsDBNull(2) ? null : reader.GetString(2),
        reader.GetString(3),
        IsActive: false,
        reader.IsDBNull(4) ? null : reader.GetString(4),
        UtcDateTimeConverter.Parse(reader.GetString(5)),
        now,
        UtcDateTimeConverter.Parse(reader.GetString(6)));
}
