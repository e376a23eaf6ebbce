using System.Data.Common;
using System.Diagnostics;

namespace Gateway.Migrations;

/// <summary>
/// sqlx's bookkeeping over ADO.NET, written once for both providers: each migration in its own transaction with its
/// row (re-checked inside it), the time in nanoseconds written after the commit, revert and delete in one
/// transaction. A provider says how its table is made and found, and how its errors read.
/// </summary>
public abstract class DbMigrationStore : IMigrationStore
{
    private readonly DbConnection _connection;

    protected DbMigrationStore(DbConnection connection, string bookkeepingTable)
    {
        _connection = connection;
        Table = new MigrationSet("store", ".", bookkeepingTable).BookkeepingTable;
    }

    /// <summary>The bookkeeping table's name, checked to be a plain identifier.</summary>
    protected string Table { get; }

    protected DbConnection Connection => _connection;

    /// <summary>A scalar query, parameter <c>@name</c> the table's name, that is non-zero when the table exists.</summary>
    protected abstract string TableExistsSql { get; }

    /// <summary>sqlx's own CREATE TABLE IF NOT EXISTS for this provider.</summary>
    protected abstract string CreateTableSql { get; }

    /// <summary><c>installed_on</c> as UTC text <c>YYYY-MM-DD HH:MM:SS</c>.</summary>
    protected abstract string ReadInstalledOn(DbDataReader reader, int ordinal);

    /// <summary>The database's own words for a file that failed; null: not a failure of the file (rethrown as is).</summary>
    protected abstract string? DescribeFailure(DbException exception);

    public virtual Task LockAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public virtual Task UnlockAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public async Task<bool> BookkeepingTableExistsAsync(CancellationToken cancellationToken)
    {
        await EnsureOpenAsync(cancellationToken);
        await using var command = Command(TableExistsSql, null, ("name", Table));
        return Convert.ToInt64(await command.ExecuteScalarAsync(cancellationToken), System.Globalization.CultureInfo.InvariantCulture) > 0;
    }

    public async Task EnsureBookkeepingTableAsync(CancellationToken cancellationToken)
    {
        await EnsureOpenAsync(cancellationToken);
        await using var command = Command(CreateTableSql, null);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    public async Task<IReadOnlyList<AppliedMigration>> ListAppliedAsync(CancellationToken cancellationToken)
    {
        if (!await BookkeepingTableExistsAsync(cancellationToken))
        {
            return [];
        }

        await using var command = Command($"SELECT version, description, installed_on, success, checksum, execution_time FROM {Table} ORDER BY version", null);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var rows = new List<AppliedMigration>();
        while (await reader.ReadAsync(cancellationToken))
        {
            rows.Add(new AppliedMigration(
                reader.GetInt64(0),
                reader.GetString(1),
                ReadInstalledOn(reader, 2),
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
            // SQLite: BEGIN IMMEDIATE takes the write lock first, so the re-check below cannot race another migrator.
            await using var transaction = await _connection.BeginTransactionAsync(cancellationToken);
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
        await using var update = Command($"UPDATE {Table} SET execution_time = @time WHERE version = @version", null, ("time", elapsedNanoseconds), ("version", migration.Version));
        await update.ExecuteNonQueryAsync(cancellationToken);
        return true;
    }

    public async Task<bool> RevertAsync(Migration migration, CancellationToken cancellationToken)
    {
        await EnsureOpenAsync(cancellationToken);
        var down = migration.Down ?? throw new MigrationException(
            MigrationErrorKind.NotReversible,
            $"migration {migration.Version} ({migration.Up.FileName}) has no down file and cannot be reverted");

        await using var transaction = await _connection.BeginTransactionAsync(cancellationToken);
        if (!await IsAppliedAsync(migration.Version, transaction, cancellationToken))
        {
            return false;
        }

        await RunFileAsync(down, transaction, cancellationToken);
        await using var delete = Command($"DELETE FROM {Table} WHERE version = @version", transaction, ("version", migration.Version));
        await delete.ExecuteNonQueryAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return true;
    }

    protected async Task EnsureOpenAsync(CancellationToken cancellationToken)
    {
        if (_connection.State != System.Data.ConnectionState.Open)
        {
            await _connection.OpenAsync(cancellationToken);
        }
    }

    protected DbCommand Command(string sql, DbTransaction? transaction, params (string Name, object Value)[] parameters)
    {
        var command = _connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        foreach (var (name, value) in parameters)
        {
            var parameter = command.CreateParameter();
            parameter.ParameterName = name;
            parameter.Value = value;
            command.Parameters.Add(parameter);
        }

        return command;
    }

    private async Task RunFileAsync(MigrationFile file, DbTransaction? transaction, CancellationToken cancellationToken)
    {
        try
        {
            await using var command = Command(file.Sql, transaction);
            await command.ExecuteNonQueryAsync(cancellationToken);
        }
        catch (DbException exception) when (DescribeFailure(exception) is { } failure)
        {
            throw new MigrationException(MigrationErrorKind.ExecutionFailed, $"{file.FileName} failed: {failure}", exception);
        }
    }

    private async Task InsertRowAsync(Migration migration, DbTransaction? transaction, CancellationToken cancellationToken)
    {
        await using var insert = Command(
            $"INSERT INTO {Table} ( version, description, success, checksum, execution_time ) VALUES ( @version, @description, TRUE, @checksum, -1 )",
            transaction,
            ("version", migration.Version),
            ("description", migration.Description),
            ("checksum", migration.Checksum));
        await insert.ExecuteNonQueryAsync(cancellationToken);
    }

    private async Task<bool> IsAppliedAsync(long version, DbTransaction? transaction, CancellationToken cancellationToken)
    {
        await using var command = Command($"SELECT COUNT(*) FROM {Table} WHERE version = @version", transaction, ("version", version));
        return Convert.ToInt64(await command.ExecuteScalarAsync(cancellationToken), System.Globalization.CultureInfo.InvariantCulture) > 0;
    }
}
