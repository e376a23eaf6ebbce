using Gateway.Testing;
using Microsoft.Data.Sqlite;

namespace Gateway.Migrations.Tests;

/// <summary>Every refusal names its reason and leaves sqlite_master and the bookkeeping rows untouched.</summary>
public sealed class RunnerRefusalTests
{
    private const long Sessions = 20250115010400;
    private const long Triggers = 20250115010600;
    private const long Unknown = 20240101000000;

    [Fact]
    public async Task A_modified_applied_file_is_refused_by_run_and_revert_before_anything_runs()
    {
        using var database = new TemporarySqliteFile();
        var source = Db.CopyMigrations(database);
        using var connection = database.Open();
        var migrator = Db.Migrator(connection, source);
        await migrator.RunAsync(Sessions, CancellationToken.None);
        await File.AppendAllTextAsync(Path.Combine(source, "20250115010300_create_tool_executions.up.sql"), "-- edited after it ran\n");

        var run = await AssertRefusedAsync(connection, () => migrator.RunAsync(null, CancellationToken.None), MigrationErrorKind.ChecksumMismatch);
        var revert = await AssertRefusedAsync(connection, () => migrator.RevertAsync(null, CancellationToken.None), MigrationErrorKind.ChecksumMismatch);
        var info = await migrator.InfoAsync(CancellationToken.None);

        Assert.Contains("20250115010300", run.Message, StringComparison.Ordinal);
        Assert.Contains("20250115010300_create_tool_executions.up.sql", run.Message, StringComparison.Ordinal);
        Assert.Contains("previously applied but has been modified", run.Message, StringComparison.Ordinal);
        Assert.Equal(run.Message, revert.Message);
        Assert.False(Db.TableExists(connection, "configurations"));
        Assert.Equal(false, info.Single(l => l.Version == 20250115010300).ChecksumMatches);
        Assert.All(info.Where(l => l.Version != 20250115010300 && l.State == MigrationState.Applied), l => Assert.Equal(true, l.ChecksumMatches));
    }

    [Fact]
    public async Task A_dirty_row_is_refused_by_run_and_revert()
    {
        using var database = new TemporarySqliteFile();
        using var connection = await database.OpenMigratedAsync();
        Db.Execute(connection, $"UPDATE {Db.SqlxTable} SET success = 0 WHERE version = {Sessions}");
        var migrator = Db.Migrator(connection);

        var run = await AssertRefusedAsync(connection, () => migrator.RunAsync(null, CancellationToken.None), MigrationErrorKind.Dirty);
        await AssertRefusedAsync(connection, () => migrator.RevertAsync(null, CancellationToken.None), MigrationErrorKind.Dirty);
        await AssertRefusedAsync(connection, () => migrator.RevertAsync(0, CancellationToken.None), MigrationErrorKind.Dirty);
        var info = await migrator.InfoAsync(CancellationToken.None);

        Assert.Contains($"migration {Sessions} (create sessions)", run.Message, StringComparison.Ordinal);
        Assert.Contains("partially applied", run.Message, StringComparison.Ordinal);
        Assert.Contains(Db.SqlxTable, run.Message, StringComparison.Ordinal);
        Assert.Equal(MigrationState.Failed, info.Single(l => l.Version == Sessions).State);
    }

    [Fact]
    public async Task An_applied_version_without_a_file_is_refused_without_ignore_missing()
    {
        using var database = new TemporarySqliteFile();
        using var connection = await database.OpenMigratedAsync();
        InsertUnknownVersion(connection);
        var migrator = Db.Migrator(connection);

        var run = await AssertRefusedAsync(connection, () => migrator.RunAsync(null, CancellationToken.None), MigrationErrorKind.VersionMissing);
        await AssertRefusedAsync(connection, () => migrator.RevertAsync(null, CancellationToken.None), MigrationErrorKind.VersionMissing);

        Assert.Contains($"migration {Unknown} (from a newer orchestrator)", run.Message, StringComparison.Ordinal);
        Assert.Contains("previously applied but is missing", run.Message, StringComparison.Ordinal);
        Assert.Contains("--ignore-missing", run.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_applied_version_without_a_file_is_accepted_and_left_alone_with_ignore_missing()
    {
        using var database = new TemporarySqliteFile();
        using var connection = await database.OpenMigratedAsync();
        InsertUnknownVersion(connection);
        var migrator = Db.Migrator(connection, options: new MigratorOptions { IgnoreMissing = true });
        var before = Db.Snapshot(connection);

        await migrator.ValidateAsync(CancellationToken.None);
        var applied = await migrator.RunAsync(null, CancellationToken.None);
        var info = await migrator.InfoAsync(CancellationToken.None);

        Assert.Empty(applied);
        Assert.Equal(before, Db.Snapshot(connection));
        Assert.Equal(MigrationState.Missing, info.Single(l => l.Version == Unknown).State);
        Assert.Equal(7, info.Count(l => l.State == MigrationState.Applied));

        var reverted = await migrator.RevertAsync(0, CancellationToken.None);

        Assert.Equal(7, reverted.Count);
        Assert.Equal([Unknown], Db.AppliedVersions(connection));
    }

    [Fact]
    public async Task A_badly_named_sql_file_in_the_source_is_refused()
    {
        using var database = new TemporarySqliteFile();
        var source = Db.CopyMigrations(database);
        await File.WriteAllTextAsync(Path.Combine(source, "abc_foo.sql"), "SELECT 1;\n");
        using var connection = database.Open();
        var migrator = Db.Migrator(connection, source);

        var onEmpty = await AssertRefusedAsync(connection, () => migrator.RunAsync(null, CancellationToken.None), MigrationErrorKind.BadFileName);

        Assert.Empty(Db.Schema(connection));
        Assert.Contains("abc_foo.sql", onEmpty.Message, StringComparison.Ordinal);
        Assert.Contains("integer version", onEmpty.Message, StringComparison.Ordinal);

        File.Delete(Path.Combine(source, "abc_foo.sql"));
        await migrator.RunAsync(null, CancellationToken.None);
        await File.WriteAllTextAsync(Path.Combine(source, "abc_foo.sql"), "SELECT 1;\n");

        await AssertRefusedAsync(connection, () => migrator.RunAsync(null, CancellationToken.None), MigrationErrorKind.BadFileName);
        await AssertRefusedAsync(connection, () => migrator.RevertAsync(null, CancellationToken.None), MigrationErrorKind.BadFileName);
    }

    [Fact]
    public async Task A_missing_source_folder_is_refused_and_creates_nothing()
    {
        using var database = new TemporarySqliteFile();
        using var connection = database.Open();
        var missing = Path.Combine(database.Directory, "no-such-folder");
        var migrator = Db.Migrator(connection, missing);

        var run = await AssertRefusedAsync(connection, () => migrator.RunAsync(null, CancellationToken.None), MigrationErrorKind.SourceMissing);
        var info = await Assert.ThrowsAsync<MigrationException>(() => migrator.InfoAsync(CancellationToken.None));

        Assert.Contains(missing, run.Message, StringComparison.Ordinal);
        Assert.Contains("does not exist", run.Message, StringComparison.Ordinal);
        Assert.Equal(MigrationErrorKind.SourceMissing, info.Kind);
        Assert.Empty(Db.Schema(connection));
    }

    [Fact]
    public async Task An_unknown_target_version_is_refused_by_run_and_revert()
    {
        using var database = new TemporarySqliteFile();
        using var connection = await database.OpenMigratedAsync();
        var migrator = Db.Migrator(connection);

        var run = await AssertRefusedAsync(connection, () => migrator.RunAsync(20250115019999, CancellationToken.None), MigrationErrorKind.UnknownTargetVersion);
        var revert = await AssertRefusedAsync(connection, () => migrator.RevertAsync(20250115000000, CancellationToken.None), MigrationErrorKind.UnknownTargetVersion);

        Assert.Contains("target version 20250115019999 is not a migration", run.Message, StringComparison.Ordinal);
        Assert.Contains("target version 20250115000000 is not a migration", revert.Message, StringComparison.Ordinal);
        Assert.Contains("use 0 to revert all", revert.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_unknown_target_version_on_a_fresh_database_creates_nothing()
    {
        using var database = new TemporarySqliteFile();
        using var connection = database.Open();

        await AssertRefusedAsync(connection, () => Db.Migrator(connection).RunAsync(42, CancellationToken.None), MigrationErrorKind.UnknownTargetVersion);

        Assert.Empty(Db.Schema(connection));
    }

    [Fact]
    public async Task Run_to_a_version_older_than_the_latest_applied_is_refused()
    {
        using var database = new TemporarySqliteFile();
        using var connection = await database.OpenMigratedAsync();

        var error = await AssertRefusedAsync(connection, () => Db.Migrator(connection).RunAsync(Sessions, CancellationToken.None), MigrationErrorKind.TargetVersionTooOld);

        Assert.Contains($"older than the latest applied version {Triggers}", error.Message, StringComparison.Ordinal);
        Assert.Contains("migrate revert", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Revert_to_a_version_newer_than_the_latest_applied_is_refused()
    {
        using var database = new TemporarySqliteFile();
        using var connection = database.Open();
        var migrator = Db.Migrator(connection);
        await migrator.RunAsync(20250115010100, CancellationToken.None);

        var error = await AssertRefusedAsync(connection, () => migrator.RevertAsync(Triggers, CancellationToken.None), MigrationErrorKind.TargetVersionTooNew);

        Assert.Contains("newer than the latest applied version 20250115010100", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("20250115010000_create_tasks.sql", MigrationErrorKind.DuplicateVersion, "appears twice")]
    [InlineData("20250115020000_orphan.down.sql", MigrationErrorKind.BadFileName, "20250115020000_orphan.down.sql has no matching")]
    [InlineData("20250115020000_lonely.up.sql", MigrationErrorKind.BadFileName, "20250115020000_lonely.up.sql has no matching .down.sql")]
    public async Task An_inconsistent_source_folder_is_refused(string extraFile, MigrationErrorKind kind, string message)
    {
        using var database = new TemporarySqliteFile();
        var source = Db.CopyMigrations(database);
        await File.WriteAllTextAsync(Path.Combine(source, extraFile), "SELECT 1;\n");
        using var connection = await database.OpenMigratedAsync();

        var error = await AssertRefusedAsync(connection, () => Db.Migrator(connection, source).RunAsync(null, CancellationToken.None), kind);

        Assert.Contains(message, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_simple_migration_cannot_be_reverted_and_nothing_is_reverted()
    {
        using var database = new TemporarySqliteFile();
        var source = Db.CopyMigrations(database);
        await File.WriteAllTextAsync(Path.Combine(source, "20250115020000_seed_settings.sql"), "INSERT INTO configurations (key, value) VALUES ('seeded', '1');\n");
        using var connection = database.Open();
        var migrator = Db.Migrator(connection, source);
        await migrator.RunAsync(null, CancellationToken.None);

        var error = await AssertRefusedAsync(connection, () => migrator.RevertAsync(0, CancellationToken.None), MigrationErrorKind.NotReversible);

        Assert.Contains("20250115020000_seed_settings.sql", error.Message, StringComparison.Ordinal);
        Assert.Contains("has no down file and cannot be reverted", error.Message, StringComparison.Ordinal);
    }

    /// <summary>Asserts the command throws a <see cref="MigrationException"/> of <paramref name="kind"/> and changes nothing.</summary>
    private static async Task<MigrationException> AssertRefusedAsync<T>(SqliteConnection connection, Func<Task<T>> command, MigrationErrorKind kind)
    {
        var before = Db.Snapshot(connection);

        var error = await Assert.ThrowsAsync<MigrationException>(command);

        Assert.Equal(kind, error.Kind);
        Assert.DoesNotContain('\n', error.Message);
        Assert.Equal(before, Db.Snapshot(connection));
        return error;
    }

    private static void InsertUnknownVersion(SqliteConnection connection) =>
        Db.Execute(
            connection,
            $"INSERT INTO {Db.SqlxTable} (version, description, success, checksum, execution_time) VALUES ({Unknown}, 'from a newer orchestrator', TRUE, zeroblob(48), 1000)");
}
