using System.Globalization;
using Gateway.Testing;
using Microsoft.Data.Sqlite;

namespace Gateway.Migrations.Tests;

/// <summary>Small synchronous helpers over a real SQLite connection, and the facts the tests share.</summary>
internal static class Db
{
    public const string SqlxTable = MigrationSet.SqlxBookkeepingTable;

    /// <summary>The seven versions and the descriptions sqlx derives from their file names.</summary>
    public static readonly IReadOnlyList<(long Version, string Description)> OrchestratorMigrations =
    [
        (20250115010000, "create tasks"),
        (20250115010100, "create workflows"),
        (20250115010200, "create workflow tasks"),
        (20250115010300, "create tool executions"),
        (20250115010400, "create sessions"),
        (20250115010500, "create configurations"),
        (20250115010600, "create triggers"),
    ];

    public static readonly IReadOnlyList<string> Tables =
        ["configurations", "sessions", "tasks", "tool_executions", "workflow_tasks", "workflows"];

    public static void Execute(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    public static object? Scalar(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        var value = command.ExecuteScalar();
        return value is DBNull ? null : value;
    }

    public static long Long(SqliteConnection connection, string sql) =>
        Convert.ToInt64(Scalar(connection, sql), CultureInfo.InvariantCulture);

    public static string? Text(SqliteConnection connection, string sql) =>
        Scalar(connection, sql) is { } value ? Convert.ToString(value, CultureInfo.InvariantCulture) : null;

    /// <summary>Every row as its values joined by " | " (NULL as "NULL", blobs as hex), in query order.</summary>
    public static List<string> Rows(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        using var reader = command.ExecuteReader();
        var rows = new List<string>();
        while (reader.Read())
        {
            var values = new string[reader.FieldCount];
            for (var i = 0; i < reader.FieldCount; i++)
            {
                values[i] = reader.GetValue(i) switch
                {
                    DBNull => "NULL",
                    byte[] bytes => Convert.ToHexString(bytes),
                    var value => Convert.ToString(value, CultureInfo.InvariantCulture) ?? "NULL",
                };
            }

            rows.Add(string.Join(" | ", values));
        }

        return rows;
    }

    /// <summary>The schema as sqlite_master shows it (type, name, tbl_name, sql), rootpage left out.</summary>
    public static List<string> Schema(SqliteConnection connection) =>
        Rows(connection, "SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY type, name");

    public static bool TableExists(SqliteConnection connection, string table)
    {
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = $name";
        command.Parameters.AddWithValue("$name", table);
        return Convert.ToInt64(command.ExecuteScalar(), CultureInfo.InvariantCulture) > 0;
    }

    /// <summary>Every column of a bookkeeping table, or nothing when it does not exist.</summary>
    public static List<string> Bookkeeping(SqliteConnection connection, string table = SqlxTable) =>
        TableExists(connection, table)
            ? Rows(connection, $"SELECT version, description, installed_on, success, checksum, execution_time FROM {table} ORDER BY version")
            : [];

    public static List<long> AppliedVersions(SqliteConnection connection, string table = SqlxTable) =>
        TableExists(connection, table)
            ? Rows(connection, $"SELECT version FROM {table} ORDER BY version").Select(v => long.Parse(v, CultureInfo.InvariantCulture)).ToList()
            : [];

    /// <summary>sqlite_master and the sqlx bookkeeping rows together: what a refusal must leave untouched.</summary>
    public static List<string> Snapshot(SqliteConnection connection) =>
        [.. Schema(connection).Select(r => "master: " + r), .. Bookkeeping(connection).Select(r => "bookkeeping: " + r)];

    public static Migrator Migrator(SqliteConnection connection, string? source = null, MigratorOptions? options = null) =>
        new(
            MigrationSet.Orchestrator(source ?? RepositoryPaths.SqliteMigrations),
            new SqliteMigrationStore(connection, SqlxTable),
            options);

    /// <summary>A copy of the repository's migration folder inside the test's own temporary folder.</summary>
    public static string CopyMigrations(TemporarySqliteFile database)
    {
        var target = Path.Combine(database.Directory, "migrations");
        Directory.CreateDirectory(target);
        foreach (var file in Directory.EnumerateFiles(RepositoryPaths.SqliteMigrations, "*.sql"))
        {
            File.Copy(file, Path.Combine(target, Path.GetFileName(file)));
        }

        return target;
    }

    public static IReadOnlyList<string> RepositoryFiles(string suffix) =>
        Directory.EnumerateFiles(RepositoryPaths.SqliteMigrations, "*" + suffix)
            .Select(Path.GetFileName)
            .OfType<string>()
            .Order(StringComparer.Ordinal)
            .ToList();

    public static string ReadRepositoryFile(string fileName) =>
        File.ReadAllText(Path.Combine(RepositoryPaths.SqliteMigrations, fileName));

    /// <summary>Test data for a theory over the repository's files with a given suffix.</summary>
    public static TheoryData<string> FileData(string suffix)
    {
        var data = new TheoryData<string>();
        foreach (var file in RepositoryFiles(suffix))
        {
            data.Add(file);
        }

        return data;
    }
}
