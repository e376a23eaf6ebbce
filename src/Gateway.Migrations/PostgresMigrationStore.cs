using System.Data.Common;
using System.Globalization;
using System.IO.Hashing;
using System.Text;
using Npgsql;

namespace Gateway.Migrations;

/// <summary>
/// sqlx's PostgreSQL bookkeeping, statement for statement (sqlx-postgres migrate.rs), and its migration lock: a
/// session-level advisory lock with sqlx's own key, held on this store's connection for a whole run, so Gateway
/// nodes starting together and the orchestrator's own migrator never migrate one database at once.
/// </summary>
public sealed class PostgresMigrationStore : DbMigrationStore
{
    private readonly NpgsqlConnection _connection;
    private long? _lockKey;

    /// <param name="connection">Opened here if closed; the caller owns it. The lock lives on it, so it must not be a pooled connection shared with other work while a run holds the lock.</param>
    public PostgresMigrationStore(NpgsqlConnection connection, string bookkeepingTable)
        : base(connection, bookkeepingTable) => _connection = connection;

    /// <summary>sqlx's lock key for a database: <c>0x3d32ad9e * crc32(name)</c> (CRC-32/ISO-HDLC), as an i64.</summary>
    public static long LockKeyOf(string databaseName) =>
        0x3d32ad9eL * Crc32.HashToUInt32(Encoding.UTF8.GetBytes(databaseName));

    public override async Task LockAsync(CancellationToken cancellationToken)
    {
        await EnsureOpenAsync(cancellationToken);
        await using (var name = new NpgsqlCommand("SELECT current_database()", _connection))
        {
            _lockKey = LockKeyOf((string)(await name.ExecuteScalarAsync(cancellationToken))!);
        }

        // As sqlx: wait as long as the holder migrates (no command timeout); the caller's token still cancels.
        await using var command = new NpgsqlCommand("SELECT pg_advisory_lock($1)", _connection) { CommandTimeout = 0 };
        command.Parameters.AddWithValue(_lockKey.Value);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    public override async Task UnlockAsync(CancellationToken cancellationToken)
    {
        if (_lockKey is not { } key || _connection.State != System.Data.ConnectionState.Open)
        {
            // A session lock ends with its connection.
            _lockKey = null;
            return;
        }

        await using var command = new NpgsqlCommand("SELECT pg_advisory_unlock($1)", _connection);
        command.Parameters.AddWithValue(key);
        await command.ExecuteNonQueryAsync(cancellationToken);
        _lockKey = null;
    }

    protected override string TableExistsSql => "SELECT count(*) FROM pg_tables WHERE schemaname = current_schema() AND tablename = @name";

    // Exactly sqlx's definition, so sqlx accepts a table Gateway created.
    protected override string CreateTableSql =>
        $"""
         CREATE TABLE IF NOT EXISTS {Table} (
             version BIGINT PRIMARY KEY,
             description TEXT NOT NULL,
             installed_on TIMESTAMPTZ NOT NULL DEFAULT now(),
             success BOOLEAN NOT NULL,
             checksum BYTEA NOT NULL,
             execution_time BIGINT NOT NULL
         );
         """;

    // The same text form as SQLite's CURRENT_TIMESTAMP, UTC.
    protected override string ReadInstalledOn(DbDataReader reader, int ordinal) =>
        reader.GetFieldValue<DateTime>(ordinal).ToUniversalTime().ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture);

    protected override string? DescribeFailure(DbException exception) =>
        exception is PostgresException postgres ? $"{postgres.MessageText} ({postgres.SqlState})" : null;
}
