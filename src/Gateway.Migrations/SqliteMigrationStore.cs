using System.Diagnostics;
using Microsoft.Data.Sqlite;

namespace Gateway.Migrations;

/// <summary>sqlx's SQLite bookkeeping, statement for statement.</summary>
public sealed class SqliteMigrationStore : IMigrationStore
{
    private readonly SqliteConnection _connection;
    private readonly string _table;

    /// <param name="connection">Opened here if closed; the caller owns it (an in-memory database lives as long as it).</param>
    public SqliteMigrationStore(SqliteConnection connection, string bookkeepingTable)
    {
        _connection = connection;
        _table = new MigrationSet("store", ".", bookkeepingTable).BookkeepingTable;
    }

    public async Task<bool> BookkeepingTableExistsAsync(CancellationToken cancellationToken)
    {
        await EnsureOpenAsync(cancellationToken);
        await using var command = _connection.CreateCommand();
        command.CommandText = "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = $name";
        command.Parameters.AddWithValue("$name", _table);
        return Convert.ToInt64(await command.ExecuteScalarAsync(cancellationToken), System.Globalization.CultureInfo.InvariantCulture) > 0;
    }

    public async Task EnsureBookkeepingTableAsync(CancellationToken cancellationToken)
    {
        await EnsureOpenAsync(cancellationToken);
        // Exactly sqlx's definition (sqlx-sqlite migrate.rs), so sqlx accepts a table Gateway created.
        await ExecuteAsync(
            $"""
            CREATE TABLE IF NOT EXISTS {_table} (
                version BIGINT PRIMARY KEY,
                description TEXT NOT NULL,
                installed_on TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
                success BOOLEAN NOT NULL,
                checksum BLOB NOT NULL,
                execution_time BIGINT NOT NULL
            );
            """,
            transaction: null,
            cancellationToken);
    }

    public async Task<IReadOnlyList<AppliedMigration>> ListAppliedAsync(CancellationToken cancellationToken)
    {
        if (!await BookkeepingTableExistsAsync(cancellationToken))
        {
            return [];
        }

        await using var command = _connection.CreateCommand();
        command.CommandText =
            $"SELECT version, description, installed_on, success, checksum, execution_time FROM {_table} ORDER BY version";
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var rows = new List<AppliedMigration>();
        while (await reader.ReadAsync(cancellationToken))
        {
            rows.Add(new AppliedMigration(
                reader.GetInt64(0),
                reader.GetString(1),
                reader.GetString(2),
                reader.GetBoolean(3),
                (byte[])reader.GetValue(4),
                reader.GetInt64(5)));
        }

        return rows;
    }

    public async Task<bool> ApplyAsync(Migration migration, CancellationToken cancellationToken)
    {
        await EnsureOpenAsync(cancellationToken);
        var started = Stopwatch.GetTimestamp();
        if (migration.Up.NoTransaction)
        {
            if (await IsAppliedAsync(migration.Version, null, cancellationToken))
            {
                return false;
            }

            await RunFileAsync(migration.Up, null, cancellationToken);
            await InsertRowAsync(migration, null, cancellationToken);
        }
        else
        {
            // BEGIN IMMEDIATE: takes the write lock first, so the re-check below cannot race another migrator.
            await using var transaction = (SqliteTransaction)await _connection.BeginTransactionAsync(cancellationToken);
            if (await IsAppliedAsync(migration.Version, transaction, cancellationToken))
            {
                return false;
            }

            await RunFileAsync(migration.Up, transaction, cancellationToken);
            await InsertRowAsync(migration, transaction, cancellationToken);
            await transaction.CommitAsync(cancellationToken);
        }

        // As sqlx: the time is written after the commit, in nanoseconds.
        var elapsedNanoseconds = Stopwatch.GetElapsedTime(started).Ticks * 100;
        await using var update = _connection.CreateCommand();
        update.CommandText = $"UPDATE {_table} SET execution_time = $time WHERE version = $version";
        update.Parameters.AddWithValue("$time", elapsedNanoseconds);
        update.Parameters.AddWithValue("$version", migration.Version);
        await update.ExecuteNonQueryAsync(cancellationToken);
        return true;
    }

    public async Task<bool> RevertAsync(Migration migration, CancellationToken cancellationToken)
    {
        await EnsureOpenAsync(cancellationToken);
        var down = migration.Down ?? throw new MigrationException(
            MigrationErrorKind.NotReversible,
            $"migration {migration.Version} ({migration.Up.FileName}) has no down file and cannot be reverted");

        await using var transaction = (SqliteTransaction)await _connection.BeginTransactionAsync(cancellationToken);
        if (!await IsAppliedAsync(migration.Version, transaction, cancellationToken))
        {
            return false;
        }

        await RunFileAsync(down, transaction, cancellationToken);
        await using var delete = _connection.CreateCommand();
        delete.Transaction = transaction;
        delete.CommandText = $"DELETE FROM {_table} WHERE version = $version";
        delete.Parameters.AddWithValue("$version", migration.Version);
        await delete.ExecuteNonQueryAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return true;
    }

    private async Task RunFileAsync(MigrationFile file, SqliteTransaction? transaction, CancellationToken cancellationToken)
    {
        try
        {
            await ExecuteAsync(file.Sql, transaction, cancellationToken);
        }
        catch (SqliteException exception)
        {
            throw new MigrationException(
                MigrationErrorKind.ExecutionFailed,
                $"{file.FileName} failed: {exception.Message}",
                exception);
        }
    }

    private async Task InsertRowAsync(Migration migration, SqliteTransaction? transaction, CancellationToken cancellationToken)
    {
        await using var insert = _connection.CreateCommand();
        insert.Transaction = transaction;
        insert.CommandText =
            $"INSERT INTO {_table} ( version, description, success, checksum, execution_time ) VALUES ( $version, $description, TRUE, $checksum, -1 )";
        insert.Parameters.AddWithValue("$version", migration.Version);
        insert.Parameters.AddWithValue("$description", migration.Description);
        insert.Parameters.Add("$checksum", SqliteType.Blob).Value = migration.Checksum;
        await insert.ExecuteNonQueryAsync(cancellationToken);
    }

    private async Task<bool> IsAppliedAsync(long version, SqliteTransaction? transaction, CancellationToken cancellationToken)
    {
        await using var command = _connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = $"SELECT COUNT(*) FROM {_table} WHERE version = $version";
        command.Parameters.AddWithValue("$version", version);
        return Convert.ToInt64(await command.ExecuteScalarAsync(cancellationToken), System.Globalization.CultureInfo.InvariantCulture) > 0;
    }

    private async Task ExecuteAsync(string sql, SqliteTransaction? transaction, CancellationToken cancellationToken)
    {
        await using var command = _connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private async Task EnsureOpenAsync(CancellationToken cancellationToken)
    {
        if (_connection.State != System.Data.ConnectionState.Open)
        {
            await _connection.OpenAsync(cancellationToken);
        }
    }
}
