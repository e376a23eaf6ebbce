using System.Security.Cryptography;
using Gateway.Testing;
using Npgsql;

namespace Gateway.Migrations.Tests;

/// <summary>
/// Both migration sets on a real PostgreSQL (tests/postgres.sh), with sqlx's PostgreSQL bookkeeping and lock: the
/// schema's counts, sqlx's rows, idempotent files, reverts, triggers, cascades, and migrators that never overlap.
/// </summary>
public sealed class PostgresMigrationTests : IAsyncLifetime
{
    private TemporaryPostgresDatabase _database = null!;

    public async Task InitializeAsync() => _database = await TestPostgres.CreateDatabaseAsync("migrations");

    public async Task DisposeAsync() => await _database.DisposeAsync();

    private static MigrationSet OrchestratorSet => MigrationSet.Orchestrator(RepositoryPaths.PostgresMigrations);

    private static MigrationSet GatewaySet => new("gateway", RepositoryPaths.GatewayPostgresMigrations, MigrationSet.GatewayBookkeepingTable);

    private static Migrator MigratorOf(NpgsqlConnection connection, MigrationSet set) => new(set, new PostgresMigrationStore(connection, set.BookkeepingTable));

    private async Task MigrateAllAsync()
    {
        await using var connection = _database.Open();
        await MigratorOf(connection, OrchestratorSet).RunAsync(null, CancellationToken.None);
        await MigratorOf(connection, GatewaySet).RunAsync(null, CancellationToken.None);
    }

    private async Task<T> ScalarAsync<T>(string sql)
    {
        await using var connection = _database.Open();
        await using var command = new NpgsqlCommand(sql, connection);
        return (T)(await command.ExecuteScalarAsync())!;
    }

    private async Task ExecuteAsync(string sql)
    {
        await using var connection = _database.Open();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    private static readonly string OrchestratorTables = "('tasks','workflows','workflow_tasks','tool_executions','sessions','configurations')";

    [Fact]
    public async Task The_schema_has_the_counts_of_the_sqlite_schema_with_native_booleans()
    {
        await MigrateAllAsync();

        Assert.Equal(6L, await ScalarAsync<long>($"SELECT count(*) FROM pg_tables WHERE schemaname = 'public' AND tablename IN {OrchestratorTables}"));
        Assert.Equal(22L, await ScalarAsync<long>($"SELECT count(*) FROM pg_indexes WHERE schemaname = 'public' AND tablename IN {OrchestratorTables} AND indexname LIKE 'idx_%'"));
        // 11 CHECKs on SQLite; the two 0/1 CHECKs are native BOOLEAN columns here.
        Assert.Equal(9L, await ScalarAsync<long>($"SELECT count(*) FROM pg_constraint c JOIN pg_class t ON t.oid = c.conrelid WHERE c.contype = 'c' AND t.relname IN {OrchestratorTables}"));
        Assert.Equal(2L, await ScalarAsync<long>("SELECT count(*) FROM information_schema.columns WHERE table_schema = 'public' AND data_type = 'boolean' AND column_name IN ('is_active', 'is_secret')"));
        Assert.Equal(4L, await ScalarAsync<long>("SELECT count(*) FROM pg_trigger WHERE NOT tgisinternal AND tgname LIKE 'trg_%_updated_at'"));
        Assert.Equal(3L, await ScalarAsync<long>("SELECT count(*) FROM pg_constraint WHERE contype = 'f' AND confdeltype = 'c'"));
        Assert.Equal(0L, await ScalarAsync<long>(
            $"SELECT count(*) FROM information_schema.columns WHERE table_schema = 'public' AND table_name IN {OrchestratorTables} AND column_name LIKE '%_at' AND data_type <> 'timestamp with time zone'"));
        Assert.Equal(32, (await ScalarAsync<string>("SELECT epoch FROM gateway_log")).Length);
    }

    [Fact]
    public async Task The_bookkeeping_is_sqlxs_table_with_sqlxs_rows()
    {
        await MigrateAllAsync();

        await using var connection = _database.Open();
        await using (var columns = new NpgsqlCommand(
            "SELECT string_agg(column_name || ' ' || data_type || ' ' || is_nullable, ', ' ORDER BY ordinal_position) FROM information_schema.columns WHERE table_name = '_sqlx_migrations'", connection))
        {
            Assert.Equal(
                "version bigint NO, description text NO, installed_on timestamp with time zone NO, success boolean NO, checksum bytea NO, execution_time bigint NO",
                await columns.ExecuteScalarAsync());
        }

        var files = Directory.GetFiles(RepositoryPaths.PostgresMigrations, "*.up.sql").Order(StringComparer.Ordinal).ToList();
        await using var rows = new NpgsqlCommand("SELECT version, description, success, checksum, execution_time FROM _sqlx_migrations ORDER BY version", connection);
        await using var reader = await rows.ExecuteReaderAsync();
        var index = 0;
        while (await reader.ReadAsync())
        {
            var file = files[index++];
            var name = Path.GetFileName(file);
            Assert.Equal(long.Parse(name[..name.IndexOf('_', StringComparison.Ordinal)], System.Globalization.CultureInfo.InvariantCulture), reader.GetInt64(0));
            Assert.Equal(name[(name.IndexOf('_', StringComparison.Ordinal) + 1)..^".up.sql".Length].Replace('_', ' '), reader.GetString(1));
            Assert.True(reader.GetBoolean(2));
            Assert.Equal(SHA384.HashData(await File.ReadAllBytesAsync(file)), reader.GetFieldValue<byte[]>(3));
            // Nanoseconds, written after the commit: never sqlx's -1 placeholder once a run is over.
            Assert.InRange(reader.GetInt64(4), 1, 60_000_000_000);
        }

        Assert.Equal(7, index);
        Assert.Equal(3L, await ScalarAsync<long>("SELECT count(*) FROM _gateway_migrations"));
    }

    [Fact]
    public async Task Every_file_is_idempotent_and_a_second_run_applies_nothing()
    {
        await MigrateAllAsync();
        foreach (var file in Directory.GetFiles(RepositoryPaths.PostgresMigrations, "*.up.sql").Concat(Directory.GetFiles(RepositoryPaths.GatewayPostgresMigrations, "*.up.sql")).Order(StringComparer.Ordinal))
        {
            await ExecuteAsync(await File.ReadAllTextAsync(file));
        }

        await using var connection = _database.Open();
        Assert.Empty(await MigratorOf(connection, OrchestratorSet).RunAsync(null, CancellationToken.None));
        Assert.Empty(await MigratorOf(connection, GatewaySet).RunAsync(null, CancellationToken.None));
        Assert.Equal(1L, await ScalarAsync<long>("SELECT count(*) FROM gateway_log"));
    }

    [Fact]
    public async Task Reverting_everything_leaves_only_the_bookkeeping_and_the_sets_apply_again()
    {
        await MigrateAllAsync();
        await using (var connection = _database.Open())
        {
            Assert.Equal(3, (await MigratorOf(connection, GatewaySet).RevertAsync(0, CancellationToken.None)).Count);
            Assert.Equal(7, (await MigratorOf(connection, OrchestratorSet).RevertAsync(0, CancellationToken.None)).Count);
        }

        Assert.Equal("_gateway_migrations,_sqlx_migrations", await ScalarAsync<string>("SELECT string_agg(tablename, ',' ORDER BY tablename) FROM pg_tables WHERE schemaname = 'public'"));
        Assert.Equal(0L, await ScalarAsync<long>("SELECT count(*) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = 'public'"));
        Assert.Equal(0L, await ScalarAsync<long>("SELECT count(*) FROM _sqlx_migrations"));

        await MigrateAllAsync();
        Assert.Equal(7L, await ScalarAsync<long>("SELECT count(*) FROM _sqlx_migrations"));
    }

    [Fact]
    public async Task Triggers_stamp_updated_at_unless_the_update_sets_it_and_deletes_cascade()
    {
        await MigrateAllAsync();
        await ExecuteAsync(
            """
            INSERT INTO tasks (id, title, task_type, updated_at) VALUES ('t-1', 'a', 'code', '2020-01-01T00:00:00Z'), ('t-2', 'b', 'code', '2020-01-01T00:00:00Z');
            INSERT INTO workflows (id, name, definition) VALUES ('w-1', 'flow', '{}');
            INSERT INTO workflow_tasks (workflow_id, task_id, sequence) VALUES ('w-1', 't-1', 0);
            INSERT INTO tool_executions (id, task_id, tool_name, arguments) VALUES ('e-1', 't-1', 'shell', '{}');
            UPDATE tasks SET title = 'stamped' WHERE id = 't-1';
            UPDATE tasks SET title = 'kept', updated_at = '2021-06-01T12:00:00.123456Z' WHERE id = 't-2';
            """);

        Assert.True(await ScalarAsync<bool>("SELECT updated_at > now() - interval '1 minute' FROM tasks WHERE id = 't-1'"));
        Assert.Equal(new DateTime(2021, 6, 1, 12, 0, 0, DateTimeKind.Utc).AddTicks(1234560), await ScalarAsync<DateTime>("SELECT updated_at FROM tasks WHERE id = 't-2'"));

        await ExecuteAsync("DELETE FROM tasks WHERE id = 't-1'");
        Assert.Equal(0L, await ScalarAsync<long>("SELECT (SELECT count(*) FROM workflow_tasks) + (SELECT count(*) FROM tool_executions)"));
    }

    [Theory]
    [InlineData("INSERT INTO tasks (id, title, task_type, config) VALUES ('t', 'a', 'code', '{not json')")]
    [InlineData("INSERT INTO tasks (id, title, task_type, status) VALUES ('t', 'a', 'code', 'exploded')")]
    [InlineData("INSERT INTO workflows (id, name, definition) VALUES ('w', 'n', '[1,')")]
    [InlineData("INSERT INTO gateway_events (event_type, priority, payload) VALUES ('task.status', 1, 'nope')")]
    [InlineData("INSERT INTO sessions (id, client_id, connection_type) VALUES ('s', 'c', 'carrier_pigeon')")]
    public async Task Checks_refuse_what_sqlite_refuses(string sql)
    {
        await MigrateAllAsync();

        var error = await Assert.ThrowsAsync<PostgresException>(() => ExecuteAsync(sql));
        Assert.Equal(PostgresErrorCodes.CheckViolation, error.SqlState);
    }

    [Fact]
    public async Task A_run_waits_while_another_migrator_holds_sqlxs_lock_on_the_database()
    {
        // The orchestrator's embedded migrator, as sqlx runs it: pg_advisory_lock(key of this database) for its whole run.
        await using var orchestrator = _database.Open();
        await using (var take = new NpgsqlCommand($"SELECT pg_advisory_lock({PostgresMigrationStore.LockKeyOf(_database.Name)})", orchestrator))
        {
            await take.ExecuteNonQueryAsync();
        }

        await using var gateway = _database.Open();
        var run = MigratorOf(gateway, OrchestratorSet).RunAsync(null, CancellationToken.None);
        await Task.Delay(700);
        Assert.False(run.IsCompleted);
        Assert.True(await ScalarAsync<bool>("SELECT to_regclass('tasks') IS NULL"));

        await using (var release = new NpgsqlCommand($"SELECT pg_advisory_unlock({PostgresMigrationStore.LockKeyOf(_database.Name)})", orchestrator))
        {
            await release.ExecuteNonQueryAsync();
        }

        Assert.Equal(7, (await run.WaitAsync(TimeSpan.FromSeconds(30))).Count);
        // The lock is given back: another session can take it at once.
        Assert.True(await ScalarAsync<bool>($"SELECT pg_try_advisory_lock({PostgresMigrationStore.LockKeyOf(_database.Name)})"));
    }

    [Fact]
    public async Task Nodes_migrating_one_database_at_once_apply_each_version_exactly_once()
    {
        var runs = Enumerable.Range(0, 4).Select(_ => Task.Run(async () =>
        {
            await using var connection = _database.Open();
            var applied = (await MigratorOf(connection, OrchestratorSet).RunAsync(null, CancellationToken.None)).Count;
            return applied + (await MigratorOf(connection, GatewaySet).RunAsync(null, CancellationToken.None)).Count;
        })).ToList();

        Assert.Equal(10, (await Task.WhenAll(runs)).Sum());
        Assert.Equal(7L, await ScalarAsync<long>("SELECT count(*) FROM _sqlx_migrations WHERE success"));
    }

    [Fact]
    public async Task A_failing_file_leaves_neither_its_effects_nor_its_row()
    {
        var source = Directory.CreateTempSubdirectory("gateway-pg-failing-");
        try
        {
            await File.WriteAllTextAsync(Path.Combine(source.FullName, "20990101000000_good.sql"), "CREATE TABLE good (id INT);");
            await File.WriteAllTextAsync(Path.Combine(source.FullName, "20990101000100_bad.sql"), "CREATE TABLE half (id INT); SELECT * FROM nowhere;");
            await using var connection = _database.Open();
            var error = await Assert.ThrowsAsync<MigrationException>(() => MigratorOf(connection, MigrationSet.Orchestrator(source.FullName)).RunAsync(null, CancellationToken.None));

            Assert.Equal(MigrationErrorKind.ExecutionFailed, error.Kind);
            Assert.Contains("20990101000100_bad.sql", error.Message, StringComparison.Ordinal);
            Assert.Equal("good", await ScalarAsync<string>("SELECT string_agg(tablename, ',') FROM pg_tables WHERE schemaname = 'public' AND tablename IN ('good', 'half')"));
            Assert.Equal(1L, await ScalarAsync<long>("SELECT count(*) FROM _sqlx_migrations"));
            Assert.True(await ScalarAsync<bool>($"SELECT pg_try_advisory_lock({PostgresMigrationStore.LockKeyOf(_database.Name)})"));
        }
        finally
        {
            source.Delete(recursive: true);
        }
    }
}
