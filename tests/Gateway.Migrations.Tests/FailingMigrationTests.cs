using Gateway.Testing;
using Microsoft.Data.Sqlite;

namespace Gateway.Migrations.Tests;

/// <summary>A migration that fails halfway leaves the database exactly as before it; earlier ones stay applied.</summary>
public sealed class FailingMigrationTests
{
    private const long Broken = 20990101000000;
    private const string BrokenUp = "20990101000000_broken.up.sql";

    // The first statement succeeds (a table is created), a later one fails.
    public static TheoryData<string, string> Failures => new()
    {
        {
            "CREATE TABLE broken_first (id INTEGER PRIMARY KEY);\nINSERT INTO broken_first (id) VALUES (1);\nCREATE TABLE oops (id INTEGER,, name TEXT);\n",
            "syntax error"
        },
        {
            "CREATE TABLE broken_first (id INTEGER PRIMARY KEY);\nINSERT INTO broken_first (id) VALUES (1);\nINSERT INTO tasks (id, title, task_type, status) VALUES ('x', 'T', 'k', 'bogus');\n",
            "CHECK constraint failed"
        },
        {
            // SQLite ends the transaction itself here (ROLLBACK conflict resolution) before the runner sees the error.
            "CREATE TABLE broken_first (id INTEGER PRIMARY KEY);\nINSERT INTO broken_first (id) VALUES (1);\nINSERT OR ROLLBACK INTO broken_first (id) VALUES (1);\n",
            "UNIQUE constraint failed"
        },
    };

    [Theory]
    [MemberData(nameof(Failures))]
    public async Task A_failing_migration_rolls_back_entirely_and_keeps_the_earlier_ones_of_the_same_run(string brokenSql, string sqliteMessage)
    {
        using var database = new TemporarySqliteFile();
        var source = WithBrokenMigration(database, brokenSql);
        using var connection = database.Open();
        var migrator = Db.Migrator(connection, source);

        var error = await Assert.ThrowsAsync<MigrationException>(() => migrator.RunAsync(null, CancellationToken.None));

        Assert.Equal(MigrationErrorKind.ExecutionFailed, error.Kind);
        Assert.Contains(BrokenUp, error.Message, StringComparison.Ordinal);
        Assert.Contains(sqliteMessage, error.Message, StringComparison.Ordinal);
        var inner = Assert.IsType<SqliteException>(error.InnerException);
        Assert.Contains(inner.Message, error.Message, StringComparison.Ordinal);
        Assert.False(Db.TableExists(connection, "broken_first"));
        Assert.Equal(0, Db.Long(connection, "SELECT COUNT(*) FROM tasks"));
        Assert.Equal(Db.OrchestratorMigrations.Select(m => m.Version), Db.AppliedVersions(connection));
        Assert.Equal(6, Db.Long(connection, $"SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name <> '{Db.SqlxTable}'"));
    }

    [Theory]
    [MemberData(nameof(Failures))]
    public async Task A_failing_migration_on_a_migrated_database_changes_nothing_and_can_be_retried(string brokenSql, string sqliteMessage)
    {
        using var database = new TemporarySqliteFile();
        var source = WithBrokenMigration(database, brokenSql);
        using var connection = await database.OpenMigratedAsync();
        var migrator = Db.Migrator(connection, source);
        var before = Db.Snapshot(connection);

        var first = await Assert.ThrowsAsync<MigrationException>(() => migrator.RunAsync(null, CancellationToken.None));
        var second = await Assert.ThrowsAsync<MigrationException>(() => migrator.RunAsync(null, CancellationToken.None));

        Assert.Contains(sqliteMessage, first.Message, StringComparison.Ordinal);
        Assert.Equal(first.Message, second.Message);
        Assert.Equal(before, Db.Snapshot(connection));
        Assert.DoesNotContain(Broken, Db.AppliedVersions(connection));

        await File.WriteAllTextAsync(Path.Combine(source, BrokenUp), "CREATE TABLE IF NOT EXISTS broken_first (id INTEGER PRIMARY KEY);\n");
        var applied = await migrator.RunAsync(null, CancellationToken.None);

        Assert.Equal([Broken], applied.Select(m => m.Version));
        Assert.True(Db.TableExists(connection, "broken_first"));
    }

    private static string WithBrokenMigration(TemporarySqliteFile database, string upSql)
    {
        var source = Db.CopyMigrations(database);
        File.WriteAllText(Path.Combine(source, BrokenUp), upSql);
        File.WriteAllText(Path.Combine(source, "20990101000000_broken.down.sql"), "DROP TABLE IF EXISTS broken_first;\n");
        return source;
    }
}
