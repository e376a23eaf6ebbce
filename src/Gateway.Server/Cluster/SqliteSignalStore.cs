using Gateway.Data.Conversion;
using Gateway.Server.Database;
using Gateway.Server.Sessions;
using Microsoft.Data.Sqlite;

namespace Gateway.Server.Cluster;

/// <summary><c>gateway_signals</c> on SQLite: ids are taken and commits made under its single write lock, so they increase in commit order.</summary>
internal sealed class SqliteSignalStore : ISignalStore
{
    private readonly DatabaseLocation _database;

    public SqliteSignalStore(DatabaseLocation database) => _database = database;

    public async Task<long> HeadAsync(CancellationToken cancellationToken)
    {
        await using var connection = new SqliteConnection(_database.ConnectionString);
        await connection.OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT COALESCE(MAX(id), 0) FROM gateway_signals";
        return (long)(await command.ExecuteScalarAsync(cancellationToken))!;
    }

    public async Task InsertAsync(ISessionTransaction transaction, Signal signal, CancellationToken cancellationToken)
    {
        await using var insert = Command(transaction,
            "INSERT INTO gateway_signals (kind, origin_node, target_node, payload, created_at) VALUES ($kind, $origin, $target, $payload, $at)");
        insert.Parameters.AddWithValue("$kind", signal.Kind);
        insert.Parameters.AddWithValue("$origin", signal.OriginNode);
        insert.Parameters.AddWithValue("$target", (object?)signal.TargetNode ?? DBNull.Value);
        insert.Parameters.AddWithValue("$payload", signal.Payload);
        insert.Parameters.AddWithValue("$at", UtcDateTimeConverter.Format(signal.CreatedAt));
        await insert.ExecuteNonQueryAsync(cancellationToken);
    }

    public async Task<List<Signal>> ReadAfterAsync(long after, string nodeId, int max, CancellationToken cancellationToken)
    {
        await using var connection = new SqliteConnection(_database.ConnectionString);
        await connection.OpenAsync(cancellationToken);
        await using var select = connection.CreateCommand();
        select.CommandText =
            $"""
            SELECT {Signal.Columns} FROM gateway_signals
            WHERE id > $after AND origin_node <> $node AND (target_node IS NULL OR target_node = $node)
            ORDER BY id LIMIT $max
            """;
        select.Parameters.AddWithValue("$after", after);
        select.Parameters.AddWithValue("$node", nodeId);
        select.Parameters.AddWithValue("$max", max);
        var signals = new List<Signal>();
        await using var reader = await select.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            signals.Add(Signal.Read(reader, (row, ordinal) => UtcDateTimeConverter.Parse(row.GetString(ordinal))));
        }

        return signals;
    }

    public async Task<int> PruneAsync(ISessionTransaction transaction, DateTime cutoff, CancellationToken cancellationToken)
    {
        await using var delete = Command(transaction, "DELETE FROM gateway_signals WHERE created_at < $cutoff");
        delete.Parameters.AddWithValue("$cutoff", UtcDateTimeConverter.Format(cutoff));
        return await delete.ExecuteNonQueryAsync(cancellationToken);
    }

    private static SqliteCommand Command(ISessionTransaction transaction, string sql)
    {
        var command = (SqliteCommand)transaction.Connection.CreateCommand();
        command.Transaction = (SqliteTransaction)transaction.Transaction;
        command.CommandText = sql;
        return command;
    }
}
