using Gateway.Testing;

namespace Gateway.Migrations.Tests;

/// <summary>Running twice changes nothing; every file is safe to execute again by hand.</summary>
public sealed class IdempotencyTests
{
    public static TheoryData<string> UpFiles => Db.FileData(".up.sql");

    public static TheoryData<string> DownFiles => Db.FileData(".down.sql");

    [Fact]
    public async Task A_second_run_applies_nothing_and_changes_nothing()
    {
        using var database = new TemporarySqliteFile();
        using var connection = await database.OpenMigratedAsync();
        var before = Db.Snapshot(connection);

        var applied = await Db.Migrator(connection).RunAsync(null, CancellationToken.None);

        Assert.Empty(applied);
        Assert.Equal(before, Db.Snapshot(connection));
    }

    [Fact]
    public async Task A_run_on_a_fresh_database_applies_the_seven_in_version_order()
    {
        using var database = new TemporarySqliteFile();
        using var connection = database.Open();

        var applied = await Db.Migrator(connection).RunAsync(null, CancellationToken.None);

        Assert.Equal(Db.OrchestratorMigrations, applied.Select(m => (m.Version, m.Description)));
    }

    [Theory]
    [MemberData(nameof(UpFiles))]
    public async Task Each_up_file_runs_again_on_a_migrated_database_without_error_or_change(string fileName)
    {
        using var database = new TemporarySqliteFile();
        using var connection = await database.OpenMigratedAsync();
        var before = Db.Snapshot(connection);

        Db.Execute(connection, Db.ReadRepositoryFile(fileName));

        Assert.Equal(before, Db.Snapshot(connection));
    }

    [Theory]
    [MemberData(nameof(DownFiles))]
    public async Task Each_down_file_runs_twice_without_error(string fileName)
    {
        using var database = new TemporarySqliteFile();
        using var connection = await database.OpenMigratedAsync();
        var sql = Db.ReadRepositoryFile(fileName);
        var before = Db.Schema(connection);

        Db.Execute(connection, sql);
        var afterFirst = Db.Schema(connection);
        Db.Execute(connection, sql);

        Assert.True(afterFirst.Count < before.Count, $"{fileName} dropped nothing");
        Assert.Equal(afterFirst, Db.Schema(connection));
    }

    [Fact]
    public async Task All_down_files_latest_first_twice_then_all_up_files_twice_rebuild_the_schema()
    {
        using var database = new TemporarySqliteFile();
        using var connection = await database.OpenMigratedAsync();
        var schema = Db.Schema(connection);

        foreach (var down in Db.RepositoryFiles(".down.sql").Reverse())
        {
            Db.Execute(connection, Db.ReadRepositoryFile(down));
            Db.Execute(connection, Db.ReadRepositoryFile(down));
        }

        Assert.Equal([Db.SqlxTable], Db.Rows(connection, "SELECT name FROM sqlite_master WHERE type = 'table'"));

        foreach (var up in Db.RepositoryFiles(".up.sql"))
        {
            Db.Execute(connection, Db.ReadRepositoryFile(up));
            Db.Execute(connection, Db.ReadRepositoryFile(up));
        }

        Assert.Equal(schema, Db.Schema(connection));
    }
}
