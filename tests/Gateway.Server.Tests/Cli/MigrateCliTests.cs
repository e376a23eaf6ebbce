using Gateway.Testing;

namespace Gateway.Server.Tests.Cli;

/// <summary>The migrate commands as a user types them, against the built executable and a real SQLite file.</summary>
public sealed class MigrateCliTests : IDisposable
{
    private readonly TemporarySqliteFile _database = new("orchestrator.db");

    public void Dispose() => _database.Dispose();

    private Task<CommandResult> Gateway(params string[] args) =>
        GatewayExecutable.RunAsync(_database.Directory, environment: null, args);

    private Task<CommandResult> GatewayWithUrl(params string[] args) =>
        GatewayExecutable.RunAsync(_database.Directory, new Dictionary<string, string?> { ["DATABASE_URL"] = _database.DatabaseUrl }, args);

    private long CountApplied() => _database.QueryLong("SELECT COUNT(*) FROM _sqlx_migrations WHERE success = 1");

    [Fact]
    public async Task Info_on_a_new_database_lists_both_sets_pending()
    {
        var result = await Gateway("migrate", "info", "--database-url", _database.DatabaseUrl);

        Assert.True(result.ExitCode == 0, result.ToString());
        var lines = result.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.StartsWith("Set", lines[0], StringComparison.Ordinal);
        Assert.Equal(7, lines.Count(l => l.StartsWith("orchestrator", StringComparison.Ordinal) && l.Contains("pending", StringComparison.Ordinal)));
        Assert.Equal(3, lines.Count(l => l.StartsWith("gateway", StringComparison.Ordinal) && l.Contains("pending", StringComparison.Ordinal)));
        Assert.Contains("20250115010000  create tasks", result.Output, StringComparison.Ordinal);
        Assert.Contains("20251125000000  create event log", result.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Run_applies_all_then_is_a_no_op_and_info_shows_applied_with_checksums_ok()
    {
        var first = await GatewayWithUrl("migrate", "run");
        var second = await GatewayWithUrl("migrate", "run");
        var info = await GatewayWithUrl("migrate", "info");

        Assert.True(first.ExitCode == 0, first.ToString());
        Assert.Contains("Applied 20250115010600/migrate create triggers", first.Output, StringComparison.Ordinal);
        Assert.True(second.ExitCode == 0, second.ToString());
        Assert.Contains("Nothing to apply", second.Output, StringComparison.Ordinal);
        Assert.Equal(7, CountApplied());
        var rows = info.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Skip(1).ToList();
        Assert.Equal(10, rows.Count);
        Assert.Equal(3, _database.QueryLong("SELECT COUNT(*) FROM _gateway_migrations WHERE success = 1"));
        Assert.All(rows, row => Assert.Matches(@"\sapplied\s+ok\s+\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\s+[\d.]+ (ms|µs)$", row));
    }

    [Fact]
    public async Task Run_with_target_version_stops_there_and_revert_goes_back_one_by_default()
    {
        var run = await GatewayWithUrl("migrate", "run", "--target-version", "20250115010200");
        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Equal(3, CountApplied());

        var revert = await GatewayWithUrl("migrate", "revert");
        Assert.True(revert.ExitCode == 0, revert.ToString());
        Assert.Contains("Applied 20250115010200/revert create workflow tasks", revert.Output, StringComparison.Ordinal);
        Assert.Equal(2, CountApplied());
    }

    [Fact]
    public async Task Revert_all_and_target_version_and_reset()
    {
        Assert.Equal(0, (await GatewayWithUrl("migrate", "run")).ExitCode);

        var toTarget = await GatewayWithUrl("migrate", "revert", "--target-version", "20250115010300");
        Assert.True(toTarget.ExitCode == 0, toTarget.ToString());
        Assert.Equal(4, CountApplied());
        Assert.Equal(0, _database.QueryLong("SELECT COUNT(*) FROM _gateway_migrations"));

        var all = await GatewayWithUrl("migrate", "revert", "--all");
        Assert.True(all.ExitCode == 0, all.ToString());
        Assert.Equal(0, CountApplied());

        var reset = await GatewayWithUrl("migrate", "reset", "--yes");
        Assert.True(reset.ExitCode == 0, reset.ToString());
        Assert.Contains("0 migrations reverted, 10 applied", reset.Output, StringComparison.Ordinal);
        Assert.Equal(7, CountApplied());
    }

    [Fact]
    public async Task Each_set_can_be_run_and_reverted_alone_and_keeps_its_own_bookkeeping()
    {
        var gatewayOnly = await GatewayWithUrl("migrate", "run", "--set", "gateway");
        Assert.True(gatewayOnly.ExitCode == 0, gatewayOnly.ToString());
        Assert.Equal(3, _database.QueryLong("SELECT COUNT(*) FROM _gateway_migrations"));
        Assert.Equal(1, _database.QueryLong("SELECT COUNT(*) FROM sqlite_master WHERE name = 'gateway_events'"));
        Assert.Equal(0, _database.QueryLong("SELECT COUNT(*) FROM sqlite_master WHERE name = '_sqlx_migrations'"));

        Assert.Equal(0, (await GatewayWithUrl("migrate", "run", "--set", "orchestrator")).ExitCode);
        var revertOrchestrator = await GatewayWithUrl("migrate", "revert", "--set", "orchestrator", "--all");
        Assert.True(revertOrchestrator.ExitCode == 0, revertOrchestrator.ToString());

        Assert.Equal(0, CountApplied());
        Assert.Equal(3, _database.QueryLong("SELECT COUNT(*) FROM _gateway_migrations"));
        Assert.Equal(0, _database.QueryLong("SELECT COUNT(*) FROM _sqlx_migrations WHERE version = 20251125000000"));
    }

    [Fact]
    public async Task Reset_without_yes_is_refused_and_changes_nothing()
    {
        Assert.Equal(0, (await GatewayWithUrl("migrate", "run")).ExitCode);

        var reset = await GatewayWithUrl("migrate", "reset");

        Assert.Equal(2, reset.ExitCode);
        Assert.Contains("--yes", reset.Error, StringComparison.Ordinal);
        Assert.Equal(7, CountApplied());
    }

    [Fact]
    public async Task A_changed_file_is_refused_with_exit_code_1_and_one_line_on_stderr()
    {
        var source = Path.Combine(_database.Directory, "migrations");
        Directory.CreateDirectory(source);
        foreach (var file in Directory.EnumerateFiles(RepositoryPaths.SqliteMigrations))
        {
            File.Copy(file, Path.Combine(source, Path.GetFileName(file)));
        }

        Assert.Equal(0, (await GatewayWithUrl("migrate", "run", "--source", source)).ExitCode);
        File.AppendAllText(Path.Combine(source, "20250115010100_create_workflows.up.sql"), "\n-- edited after it was applied\n");

        var run = await GatewayWithUrl("migrate", "run", "--source", source);
        var info = await GatewayWithUrl("migrate", "info", "--source", source);

        Assert.Equal(1, run.ExitCode);
        Assert.Single(run.Error.Trim().Split('\n'));
        Assert.Contains("20250115010100", run.Error, StringComparison.Ordinal);
        Assert.Contains("modified", run.Error, StringComparison.Ordinal);
        Assert.Matches(@"20250115010100\s+create workflows\s+applied\s+changed", info.Output);
    }

    [Fact]
    public async Task Unknown_version_needs_ignore_missing()
    {
        Assert.Equal(0, (await GatewayWithUrl("migrate", "run")).ExitCode);
        using (var connection = _database.Open())
        using (var command = connection.CreateCommand())
        {
            command.CommandText =
                "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) VALUES (20990101000000, 'orchestrator only', 1, zeroblob(48), 1000)";
            command.ExecuteNonQuery();
        }

        var refused = await GatewayWithUrl("migrate", "run");
        var accepted = await GatewayWithUrl("migrate", "run", "--ignore-missing");

        Assert.Equal(1, refused.ExitCode);
        Assert.Contains("20990101000000", refused.Error, StringComparison.Ordinal);
        Assert.Contains("--ignore-missing", refused.Error, StringComparison.Ordinal);
        Assert.True(accepted.ExitCode == 0, accepted.ToString());
    }

    [Theory]
    [InlineData("migrate", "run", "--no-such-flag")]
    [InlineData("migrate", "revert", "--all", "--target-version", "1")]
    [InlineData("migrate", "run", "--target-version", "not-a-number")]
    [InlineData("migrate", "frobnicate")]
    [InlineData("migrate", "run", "--set", "bogus")]
    public async Task Bad_usage_exits_with_2_and_a_one_line_reason(params string[] args)
    {
        var result = await GatewayWithUrl(args);

        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.Single(result.Error.Trim().Split('\n'));
        Assert.StartsWith("error:", result.Error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("mysql://localhost/x", "not understood")]
    [InlineData("postgres://gateway:hunter2@localhost/x?sslmode=always", "sslmode must be")]
    [InlineData("sqlite:x.db?mode=bogus", "mode")]
    public async Task A_database_url_gateway_cannot_use_is_refused(string url, string expected)
    {
        var result = await Gateway("migrate", "info", "--database-url", url);

        Assert.Equal(1, result.ExitCode);
        Assert.Contains(expected, result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_unreachable_postgres_database_is_named_without_its_password()
    {
        var result = await Gateway("migrate", "info", "--database-url", "postgres://gateway:hunter2@127.0.0.1:1/orchestrator");

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("postgres://gateway@127.0.0.1:1/orchestrator", result.Error, StringComparison.Ordinal);
        Assert.Contains("Failed to connect", result.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("hunter2", result.Error + result.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Run_info_and_revert_work_on_postgres_with_the_postgres_files()
    {
        await using var postgres = await TestPostgres.CreateDatabaseAsync("cli");
        var environment = new Dictionary<string, string?> { ["DATABASE_URL"] = postgres.Url };

        var run = await GatewayExecutable.RunAsync(_database.Directory, environment, "migrate", "run");
        var info = await GatewayExecutable.RunAsync(_database.Directory, environment, "migrate", "info");
        var revert = await GatewayExecutable.RunAsync(_database.Directory, environment, "migrate", "revert", "--set", "gateway", "--target-version", "0");

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Contains("10 migrations applied", run.Output, StringComparison.Ordinal);
        Assert.True(info.ExitCode == 0, info.ToString());
        Assert.Equal(10, info.Output.Split('\n').Count(line => line.Contains(" applied ", StringComparison.Ordinal) && line.Contains(" ok ", StringComparison.Ordinal)));
        Assert.True(revert.ExitCode == 0, revert.ToString());
        await using var connection = postgres.Open();
        await using var count = new Npgsql.NpgsqlCommand("SELECT (SELECT count(*) FROM _sqlx_migrations) * 10 + (SELECT count(*) FROM _gateway_migrations)", connection);
        Assert.Equal(70L, await count.ExecuteScalarAsync());
        // The PostgreSQL files, not the SQLite ones: native types.
        await using var type = new Npgsql.NpgsqlCommand("SELECT data_type FROM information_schema.columns WHERE table_name = 'tasks' AND column_name = 'created_at'", connection);
        Assert.Equal("timestamp with time zone", await type.ExecuteScalarAsync());
    }

    [Fact]
    public async Task A_missing_source_folder_is_refused_and_no_database_file_is_written()
    {
        var result = await GatewayWithUrl("migrate", "run", "--source", Path.Combine(_database.Directory, "nowhere"));

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("does not exist", result.Error, StringComparison.Ordinal);
        Assert.Equal(0, CountTables());
    }

    [Theory]
    [InlineData("--help")]
    [InlineData("migrate", "--help")]
    [InlineData("migrate", "run", "--help")]
    [InlineData("migrate", "revert", "--help")]
    [InlineData("migrate", "info", "--help")]
    [InlineData("migrate", "reset", "--help")]
    public async Task Every_command_has_help(params string[] args)
    {
        var result = await Gateway(args);

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("Usage:", result.Output, StringComparison.Ordinal);
    }

    private long CountTables() => _database.QueryLong("SELECT COUNT(*) FROM sqlite_master WHERE type = 'table'");
}

/// <summary>The migrate commands on a database whose orchestrator applies its own migrations (<c>--orchestrator external</c>).</summary>
public sealed class ExternalOrchestratorMigrateCliTests
{
    private static Task<CommandResult> Gateway(OrchestratorOwnedDatabase owned, params string[] args) =>
        GatewayExecutable.RunAsync(owned.Database.Directory, new Dictionary<string, string?> { ["DATABASE_URL"] = owned.Database.DatabaseUrl }, args);

    [Fact]
    public async Task Info_shows_the_orchestrators_set_as_the_database_holds_it_and_run_applies_only_gateways_own()
    {
        using var owned = await OrchestratorOwnedDatabase.CreateAsync();
        var bookkeeping = owned.Bookkeeping();

        var info = await Gateway(owned, "migrate", "info", "--orchestrator", "external");
        var run = await Gateway(owned, "migrate", "run", "--orchestrator", "external");
        var after = await Gateway(owned, "migrate", "info", "--orchestrator", "external");

        Assert.True(info.ExitCode == 0, info.ToString());
        var lines = info.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(10, lines.Count(l => l.StartsWith("orchestrator (external)", StringComparison.Ordinal) && l.Contains(" external ", StringComparison.Ordinal)));
        Assert.Contains(lines, l => l.Contains("20250401000000  create checkpoints", StringComparison.Ordinal));
        Assert.Equal(3, lines.Count(l => l.StartsWith("gateway", StringComparison.Ordinal) && l.Contains("pending", StringComparison.Ordinal)));
        Assert.Contains("its own migrator applies it", info.Output, StringComparison.Ordinal);
        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Contains("3 migrations applied.", run.Output, StringComparison.Ordinal);
        Assert.Contains("only Gateway's own set is changed", run.Error, StringComparison.Ordinal);
        Assert.Equal(3, after.Output.Split('\n').Count(l => l.StartsWith("gateway", StringComparison.Ordinal) && l.Contains("applied", StringComparison.Ordinal)));
        Assert.Equal(bookkeeping, owned.Bookkeeping());
        await owned.AssertOrchestratorMigratorAcceptsAsync();
    }

    [Theory]
    [InlineData("run")]
    [InlineData("revert")]
    [InlineData("reset", "--yes")]
    public async Task Changing_the_external_set_is_refused_and_changes_nothing(params string[] command)
    {
        using var owned = await OrchestratorOwnedDatabase.CreateAsync();
        var bookkeeping = owned.Bookkeeping();
        var laterTables = owned.LaterTables();

        var result = await Gateway(owned, ["migrate", .. command, "--set", "orchestrator", "--orchestrator", "external"]);

        Assert.True(result.ExitCode == 1, result.ToString());
        Assert.Contains("the orchestrator's set is external", result.Error, StringComparison.Ordinal);
        Assert.Equal(bookkeeping, owned.Bookkeeping());
        Assert.Equal(laterTables, owned.LaterTables());
    }

    [Fact]
    public async Task The_default_mode_names_the_setting_when_it_meets_the_orchestrators_bookkeeping()
    {
        using var owned = await OrchestratorOwnedDatabase.CreateAsync();

        var result = await Gateway(owned, "migrate", "run");

        Assert.True(result.ExitCode == 1, result.ToString());
        Assert.Contains("Migrations:Orchestrator=external", result.Error, StringComparison.Ordinal);
    }
}
