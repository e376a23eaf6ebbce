using System.Security.Cryptography;
using Gateway.Testing;
using Microsoft.Data.Sqlite;

namespace Gateway.Migrations.Tests;

/// <summary>
/// A database migrated by sqlx-cli is accepted by Gateway's runner, and the rows Gateway writes have sqlx's form.
/// The sqlx side is rebuilt here from sqlx's own definitions (sqlx-sqlite migrate.rs), not from Gateway's code.
/// </summary>
public sealed class SqlxCompatibilityTests
{
    // sqlx-sqlite's ensure_migrations_table, verbatim.
    private const string SqlxCreateTable =
        """
        CREATE TABLE IF NOT EXISTS _sqlx_migrations (
            version BIGINT PRIMARY KEY,
            description TEXT NOT NULL,
            installed_on TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
            success BOOLEAN NOT NULL,
            checksum BLOB NOT NULL,
            execution_time BIGINT NOT NULL
        );
        """;

    private static readonly string[] SqlxColumns =
    [
        "version | BIGINT | 0 | NULL | 1",
        "description | TEXT | 1 | NULL | 0",
        "installed_on | TIMESTAMP | 1 | CURRENT_TIMESTAMP | 0",
        "success | BOOLEAN | 1 | NULL | 0",
        "checksum | BLOB | 1 | NULL | 0",
        "execution_time | BIGINT | 1 | NULL | 0",
    ];

    [Fact]
    public async Task A_database_migrated_the_sqlx_way_is_up_to_date_for_gateway()
    {
        using var database = new TemporarySqliteFile();
        using var connection = database.Open();
        MigrateLikeSqlx(connection);
        var before = Db.Snapshot(connection);
        var migrator = Db.Migrator(connection);

        await migrator.ValidateAsync(CancellationToken.None);
        var applied = await migrator.RunAsync(null, CancellationToken.None);
        var info = await migrator.InfoAsync(CancellationToken.None);

        Assert.Empty(applied);
        Assert.Equal(before, Db.Snapshot(connection));
        Assert.Equal(Db.OrchestratorMigrations, info.Select(l => (l.Version, l.Description)));
        Assert.All(info, line =>
        {
            Assert.Equal(MigrationState.Applied, line.State);
            Assert.Equal(true, line.ChecksumMatches);
            Assert.NotNull(line.AppliedAt);
            Assert.True(line.Duration > TimeSpan.Zero);
        });
    }

    [Fact]
    public async Task A_database_migrated_the_sqlx_way_can_be_reverted_and_reapplied_by_gateway()
    {
        using var database = new TemporarySqliteFile();
        using var connection = database.Open();
        MigrateLikeSqlx(connection);
        var schema = Db.Schema(connection);
        var migrator = Db.Migrator(connection);

        var reverted = await migrator.RevertAsync(0, CancellationToken.None);
        var applied = await migrator.RunAsync(null, CancellationToken.None);

        Assert.Equal(7, reverted.Count);
        Assert.Equal(7, applied.Count);
        Assert.Equal(schema, Db.Schema(connection));
    }

    [Fact]
    public async Task The_bookkeeping_table_gateway_creates_has_sqlx_columns_exactly()
    {
        using var sqlxDatabase = new TemporarySqliteFile();
        using var sqlxConnection = sqlxDatabase.Open();
        Db.Execute(sqlxConnection, SqlxCreateTable);
        using var database = new TemporarySqliteFile();
        using var connection = await database.OpenMigratedAsync();

        var gateway = TableInfo(connection, Db.SqlxTable);

        Assert.Equal(SqlxColumns, TableInfo(sqlxConnection, Db.SqlxTable));
        Assert.Equal(SqlxColumns, gateway);
    }

    [Fact]
    public async Task The_rows_gateway_writes_have_sqlx_form()
    {
        using var database = new TemporarySqliteFile();
        using var connection = await database.OpenMigratedAsync();

        var rows = Db.Rows(
            connection,
            $"""
            SELECT version, typeof(version), description, success, typeof(success), checksum, typeof(checksum), length(checksum),
                   execution_time, typeof(execution_time), installed_on, typeof(installed_on)
            FROM {Db.SqlxTable} ORDER BY version
            """);

        var upFiles = Db.RepositoryFiles(".up.sql");
        Assert.Equal(7, rows.Count);
        for (var i = 0; i < rows.Count; i++)
        {
            var row = rows[i].Split(" | ");
            var (version, description) = SqlxNameParts(upFiles[i]);
            Assert.Equal(version.ToString(System.Globalization.CultureInfo.InvariantCulture), row[0]);
            Assert.Equal("integer", row[1]);
            Assert.Equal(description, row[2]);
            Assert.Equal("1", row[3]);
            Assert.Equal("integer", row[4]);
            Assert.Equal(Convert.ToHexString(SqlxChecksum(upFiles[i])), row[5]);
            Assert.Equal("blob", row[6]);
            Assert.Equal("48", row[7]);
            Assert.True(long.Parse(row[8], System.Globalization.CultureInfo.InvariantCulture) > 0, $"execution_time {row[8]}");
            Assert.Equal("integer", row[9]);
            Assert.Matches(@"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$", row[10]);
            Assert.Equal("text", row[11]);
        }

        Assert.Equal("create tasks", rows[0].Split(" | ")[2]);
    }

    [Fact]
    public async Task Gateway_rows_equal_the_rows_sqlx_writes_except_time_columns()
    {
        using var sqlxDatabase = new TemporarySqliteFile();
        using var sqlxConnection = sqlxDatabase.Open();
        MigrateLikeSqlx(sqlxConnection);
        using var database = new TemporarySqliteFile();
        using var connection = await database.OpenMigratedAsync();
        const string Query = "SELECT version, description, success, typeof(success), checksum, typeof(checksum) FROM _sqlx_migrations ORDER BY version";

        Assert.Equal(Db.Rows(sqlxConnection, Query), Db.Rows(connection, Query));
        Assert.Equal(Db.Schema(sqlxConnection).Where(r => !r.Contains(Db.SqlxTable, StringComparison.Ordinal)), Db.Schema(connection).Where(r => !r.Contains(Db.SqlxTable, StringComparison.Ordinal)));
    }

    /// <summary>
    /// What sqlx-cli's `migrate run` leaves: its table, then per up file one transaction with the file and its row
    /// (success TRUE, execution_time -1), and after the commit the execution time in nanoseconds.
    /// </summary>
    private static void MigrateLikeSqlx(SqliteConnection connection)
    {
        Db.Execute(connection, SqlxCreateTable);
        foreach (var fileName in Db.RepositoryFiles(".up.sql"))
        {
            var (version, description) = SqlxNameParts(fileName);
            using (var transaction = connection.BeginTransaction())
            {
                using var run = connection.CreateCommand();
                run.Transaction = transaction;
                run.CommandText = Db.ReadRepositoryFile(fileName);
                run.ExecuteNonQuery();

                using var insert = connection.CreateCommand();
                insert.Transaction = transaction;
                insert.CommandText =
                    "INSERT INTO _sqlx_migrations ( version, description, success, checksum, execution_time ) VALUES ( ?1, ?2, TRUE, ?3, -1 )";
                insert.Parameters.AddWithValue("?1", version);
                insert.Parameters.AddWithValue("?2", description);
                insert.Parameters.Add("?3", SqliteType.Blob).Value = SqlxChecksum(fileName);
                insert.ExecuteNonQuery();
                transaction.Commit();
            }

            using var update = connection.CreateCommand();
            update.CommandText = "UPDATE _sqlx_migrations SET execution_time = ?1 WHERE version = ?2";
            update.Parameters.AddWithValue("?1", 1_234_567L);
            update.Parameters.AddWithValue("?2", version);
            update.ExecuteNonQuery();
        }
    }

    /// <summary>sqlx: split at the first '_', version before it, the rest less its suffix with '_' as spaces.</summary>
    private static (long Version, string Description) SqlxNameParts(string fileName)
    {
        var parts = fileName.Split('_', 2);
        var description = parts[1][..^".up.sql".Length].Replace('_', ' ');
        return (long.Parse(parts[0], System.Globalization.CultureInfo.InvariantCulture), description);
    }

    private static byte[] SqlxChecksum(string fileName) =>
        SHA384.HashData(File.ReadAllBytes(Path.Combine(RepositoryPaths.SqliteMigrations, fileName)));

    private static List<string> TableInfo(SqliteConnection connection, string table) =>
        Db.Rows(connection, $"SELECT name, type, \"notnull\", dflt_value, pk FROM pragma_table_info('{table}') ORDER BY cid");
}
