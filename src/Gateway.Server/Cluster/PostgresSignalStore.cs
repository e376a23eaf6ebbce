using Gateway.Data.Conversion;
using Gateway.Server.Sessions;
using Npgsql;
using NpgsqlTypes;

namespace Gateway.Server.Cluster;

/// <summary>
/// <c>gateway_signals</c> on PostgreSQL. An identity's values are taken before commit, so on their own they are not
/// in commit order: every insert first takes one transaction-scoped advisory lock, held to its commit, so signal
/// writers of every node commit one after the other and ids increase in commit order. The price: signal writes of
/// the whole cluster serialise (they are small, and each session writer batches its own). Each insert also notifies
/// the other nodes at commit (<see cref="Events.PostgresEventLog.Channel"/>), as the event log's appends do.
/// </summary>
internal sealed class PostgresSignalStore : ISignalStore
{
    private readonly NpgsqlDataSource _dataSource;

    public PostgresSignalStore(NpgsqlDataSource dataSource) => _dataSource = dataSource;

    public async Task<long> HeadAsync(CancellationToken cancellationToken)
    {
        await using var command = _dataSource.CreateCommand("SELECT COALESCE(MAX(id), 0) FROM gateway_signals");
        return (long)(await command.ExecuteScalarAsync(cancellationToken))!;
    }

    public async Task InsertAsync(ISessionTransaction transaction, Signal signal, CancellationToken cancellationToken)
    {
        await using var insert = new NpgsqlCommand(
            """
            SELECT pg_advisory_xact_lock(hashtextextended('gateway.signals', 0)), pg_notify('gateway_log', @origin);
            INSERT INTO gateway_signals (kind, origin_node, target_node, payload, created_at) VALUES (@kind, @origin, @target, @payload, @at);
            """,
            (NpgsqlConnection)transaction.Connection,
            (NpgsqlTransaction)transaction.Transaction);
        insert.Parameters.AddWithValue("kind", signal.Kind);
        insert.Parameters.AddWithValue("origin", signal.OriginNode);
        insert.Parameters.AddWithValue("target", NpgsqlDbType.Text, (object?)signal.TargetNode ?? DBNull.Value);
        insert.Parameters.AddWithValue("payload", signal.Payload);
        insert.Parameters.AddWithValue("at", NpgsqlDbType.TimestampTz, UtcMicrosecondConverter.ToStore(signal.CreatedAt));
        await insert.ExecuteNonQueryAsync(cancellationToken);
    }

    public async Task<List<Signal>> ReadAfterAsync(long after, string nodeId, int max, CancellationToken cancellationToken)
    {
        await using var select = _dataSource.CreateCommand(
            $"""
            SELECT {Signal.Columns} FROM gateway_signals
            WHERE id > @after AND origin_node <> @node AND (target_node IS NULL OR target_node = @node)
            ORDER BY id LIMIT @max
            """);
        select.Parameters.AddWithValue("after", after);
        select.Parameters.AddWithValue("node", nodeId);
        select.Parameters.AddWithValue("max", max);
        var signals = new List<Signal>();
        await using var reader = await select.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            signals.Add(Signal.Read(reader, (row, ordinal) => row.GetFieldValue<DateTime>(ordinal)));
        }

        return signals;
    }

    public async Task<int> PruneAsync(ISessionTransaction transaction, DateTime cutoff, CancellationToken cancellationToken)
    {
        await using var delete = new NpgsqlCommand(
            "DELETE FROM gateway_signals WHERE created_at < @cutoff", (NpgsqlConnection)transaction.Connection, (NpgsqlTransaction)transaction.Transaction);
        delete.Parameters.AddWithValue("cutoff", NpgsqlDbType.TimestampTz, UtcMicrosecondConverter.ToStore(cutoff));
        return await delete.ExecuteNonQueryAsync(cancellationToken);
    }
}
