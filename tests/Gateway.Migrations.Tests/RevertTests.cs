using Gateway.Testing;

namespace Gateway.Migrations.Tests;

/// <summary>Down migrations: revert all, the latest, down to a target; up-down-up gives the same schema.</summary>
public sealed class RevertTests
{
    private const long Workflows = 20250115010100;
    private const long WorkflowTasks = 20250115010200;
    private const long Triggers = 20250115010600;

    [Fact]
    public async Task Revert_to_0_leaves_only_the_empty_bookkeeping_table()
    {
        using var database = new TemporarySqliteFile();
        using var connection = await database.OpenMigratedAsync();

        var reverted = await Db.Migrator(connection).RevertAsync(0, CancellationToken.None);

        Assert.Equal(Db.OrchestratorMigrations.Select(m => m.Version).Reverse(), reverted.Select(m => m.Version));
        Assert.All(Db.Rows(connection, "SELECT type, name, tbl_name FROM sqlite_master"), row => Assert.EndsWith($"| {Db.SqlxTable}", row, StringComparison.Ordinal));
        Assert.Equal(0, Db.Long(connection, "SELECT COUNT(*) FROM sqlite_master WHERE type IN ('index', 'trigger') AND sql IS NOT NULL"));
        Assert.Equal([Db.SqlxTable], Db.Rows(connection, "SELECT name FROM sqlite_master WHERE type = 'table'"));
        Assert.Empty(Db.Bookkeeping(connection));
    }

    [Fact]
    public async Task Revert_to_0_works_on_a_database_full_of_rows_with_foreign_keys_on()
    {
        using var database = new TemporarySqliteFile();
        using var connection = await database.OpenMigratedAsync();
        Db.Execute(
            connection,
            """
            INSERT INTO tasks (id, title, task_type) VALUES ('t1', 'Build', 'build');
            INSERT INTO workflows (id, name, definition) VALUES ('w1', 'Release', '{}');
            INSERT INTO workflow_tasks (workflow_id, task_id, sequence) VALUES ('w1', 't1', 0);
            INSERT INTO tool_executions (id, task_id, tool_name, arguments) VALUES ('e1', 't1', 'sh', '{}');
            INSERT INTO sessions (id, client_id, connection_type) VALUES ('s1', 'c1', 'websocket');
            INSERT INTO configurations (key, value) VALUES ('k', 'v');
            """);

        var reverted = await Db.Migrator(connection).RevertAsync(0, CancellationToken.None);

        Assert.Equal(7, reverted.Count);
        Assert.Equal([Db.SqlxTable], Db.Rows(connection, "SELECT name FROM sqlite_master WHERE type = 'table'"));
    }

    [Fact]
    public async Task Up_down_up_ends_with_the_same_schema_and_the_same_bookkeeping()
    {
        using var database = new TemporarySqliteFile();
        using var connection = await database.OpenMigratedAsync();
        var migrator = Db.Migrator(connection);
        var schema = Db.Schema(connection);
        var rows = Db.Rows(connection, $"SELECT version, description, success, checksum FROM {Db.SqlxTable} ORDER BY version");

        await migrator.RevertAsync(0, CancellationToken.None);
        var applied = await migrator.RunAsync(null, CancellationToken.None);

        Assert.Equal(7, applied.Count);
        Assert.Equal(schema, Db.Schema(connection));
        Assert.Equal(rows, Db.Rows(connection, $"SELECT version, description, success, checksum FROM {Db.SqlxTable} ORDER BY version"));
    }

    [Fact]
    public async Task Reset_reverts_all_then_applies_all()
    {
        using var database = new TemporarySqliteFile();
        using var connection = await database.OpenMigratedAsync();
        var schema = Db.Schema(connection);

        var (reverted, applied) = await Db.Migrator(connection).ResetAsync(CancellationToken.None);

        Assert.Equal(7, reverted.Count);
        Assert.Equal(7, applied.Count);
        Assert.Equal(schema, Db.Schema(connection));
    }

    [Fact]
    public async Task Revert_without_target_reverts_exactly_the_latest()
    {
        using var database = new TemporarySqliteFile();
        using var connection = await database.OpenMigratedAsync();
        var migrator = Db.Migrator(connection);

        var first = await migrator.RevertAsync(null, CancellationToken.None);

        Assert.Equal([Triggers], first.Select(m => m.Version));
        Assert.Equal(0, Db.Long(connection, "SELECT COUNT(*) FROM sqlite_master WHERE type = 'trigger'"));
        Assert.Equal(6, Db.Long(connection, $"SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name <> '{Db.SqlxTable}'"));
        Assert.Equal(Db.OrchestratorMigrations.Select(m => m.Version).Take(6), Db.AppliedVersions(connection));

        var second = await migrator.RevertAsync(null, CancellationToken.None);

        Assert.Equal([20250115010500], second.Select(m => m.Version));
        Assert.False(Db.TableExists(connection, "configurations"));
        Assert.True(Db.TableExists(connection, "sessions"));
        Assert.Equal(5, Db.AppliedVersions(connection).Count);
    }

    [Fact]
    public async Task Revert_to_a_target_reverts_every_version_above_it_latest_first()
    {
        using var database = new TemporarySqliteFile();
        using var connection = await database.OpenMigratedAsync();

        var reverted = await Db.Migrator(connection).RevertAsync(WorkflowTasks, CancellationToken.None);

        Assert.Equal([Triggers, 20250115010500, 20250115010400, 20250115010300], reverted.Select(m => m.Version));
        Assert.Equal([Db.SqlxTable, "tasks", "workflow_tasks", "workflows"], Db.Rows(connection, "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"));
        Assert.Equal(Db.OrchestratorMigrations.Select(m => m.Version).Take(3), Db.AppliedVersions(connection));
    }

    [Fact]
    public async Task Revert_to_the_latest_applied_version_reverts_nothing()
    {
        using var database = new TemporarySqliteFile();
        using var connection = await database.OpenMigratedAsync();
        var before = Db.Snapshot(connection);

        var reverted = await Db.Migrator(connection).RevertAsync(Triggers, CancellationToken.None);

        Assert.Empty(reverted);
        Assert.Equal(before, Db.Snapshot(connection));
    }

    [Fact]
    public async Task Revert_on_an_empty_database_reverts_nothing_and_creates_nothing()
    {
        using var database = new TemporarySqliteFile();
        using var connection = database.Open();

        var reverted = await Db.Migrator(connection).RevertAsync(null, CancellationToken.None);

        Assert.Empty(reverted);
        Assert.Empty(Db.Schema(connection));
    }

    [Fact]
    public async Task Run_to_a_target_applies_up_to_and_including_it_and_a_later_run_applies_the_rest()
    {
        using var database = new TemporarySqliteFile();
        using var connection = database.Open();
        var migrator = Db.Migrator(connection);

        var first = await migrator.RunAsync(Workflows, CancellationToken.None);

        Assert.Equal([20250115010000, Workflows], first.Select(m => m.Version));
        Assert.Equal([Db.SqlxTable, "tasks", "workflows"], Db.Rows(connection, "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"));

        var rest = await migrator.RunAsync(null, CancellationToken.None);

        Assert.Equal(Db.OrchestratorMigrations.Select(m => m.Version).Skip(2), rest.Select(m => m.Version));
    }
}
