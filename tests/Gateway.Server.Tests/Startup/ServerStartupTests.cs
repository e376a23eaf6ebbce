using System.Net;
using Gateway.Testing;

namespace Gateway.Server.Tests.Startup;

/// <summary>The server as a real process: migrations at start, refusal on a bad database, where its database is.</summary>
public sealed class ServerStartupTests : IDisposable
{
    private static readonly TimeSpan ExitTimeout = TimeSpan.FromSeconds(30);
    private readonly TemporarySqliteFile _database = new("orchestrator.db");

    public void Dispose() => _database.Dispose();

    private Dictionary<string, string?> WithDatabaseUrl(params (string Key, string Value)[] more)
    {
        var environment = new Dictionary<string, string?> { ["DATABASE_URL"] = _database.DatabaseUrl };
        foreach (var (key, value) in more)
        {
            environment[key] = value;
        }

        return environment;
    }

    private static async Task<HttpStatusCode> GetStatusAsync(Uri baseAddress, string path)
    {
        using var client = new HttpClient { BaseAddress = baseAddress, Timeout = TimeSpan.FromSeconds(10) };
        using var response = await client.GetAsync(new Uri(path, UriKind.Relative));
        return response.StatusCode;
    }

    private long CountApplied() => _database.QueryLong("SELECT COUNT(*) FROM _sqlx_migrations WHERE success = 1");

    [Fact]
    public async Task Applies_pending_migrations_at_start_and_reports_ready()
    {
        await using var server = await GatewayServerProcess.StartAsync(_database.Directory, WithDatabaseUrl());

        Assert.False(server.HasExited, server.Output);
        Assert.Equal(HttpStatusCode.OK, await GetStatusAsync(server.BaseAddress, "/health/live"));
        Assert.Equal(HttpStatusCode.OK, await GetStatusAsync(server.BaseAddress, "/health/ready"));
        Assert.Equal(7, CountApplied());
    }

    [Fact]
    public async Task Without_any_setting_creates_its_database_in_the_data_folder_of_the_working_directory()
    {
        await using var server = await GatewayServerProcess.StartAsync(_database.Directory);

        Assert.False(server.HasExited, server.Output);
        Assert.True(File.Exists(Path.Combine(_database.Directory, "data", "gateway.db")), server.Output);
    }

    [Fact]
    public async Task Refuses_to_start_on_a_dirty_database_and_says_why()
    {
        using (await _database.OpenMigratedAsync())
        {
        }

        using (var connection = _database.Open())
        using (var command = connection.CreateCommand())
        {
            command.CommandText = "UPDATE _sqlx_migrations SET success = 0 WHERE version = 20250115010300";
            command.ExecuteNonQuery();
        }

        await using var server = await GatewayServerProcess.StartAsync(_database.Directory, WithDatabaseUrl());
        var exitCode = await server.WaitForExitAsync(ExitTimeout);

        Assert.Equal(1, exitCode);
        Assert.Contains("partially applied", server.Output, StringComparison.Ordinal);
        Assert.Contains("20250115010300", server.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task On_an_unreachable_postgres_url_the_server_refuses_to_start_naming_the_database_without_its_password()
    {
        await using var server = await GatewayServerProcess.StartAsync(
            _database.Directory, new Dictionary<string, string?> { ["DATABASE_URL"] = "postgres://gateway:hunter2@127.0.0.1:1/orchestrator" });
        var exitCode = await server.WaitForExitAsync(ExitTimeout);

        Assert.Equal(1, exitCode);
        Assert.Contains("[1012]", server.Output, StringComparison.Ordinal);
        Assert.Contains("postgres://gateway@127.0.0.1:1/orchestrator cannot be used", server.Output, StringComparison.Ordinal);
        Assert.Contains("pg_isready", server.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("hunter2", server.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task On_a_missing_postgres_database_the_server_refuses_to_start_and_says_to_create_it()
    {
        var server = new Uri(await TestPostgres.ServerUrlAsync());
        var url = $"postgres://{server.UserInfo}@{server.Host}:{server.Port}/gateway_missing_{Guid.NewGuid():N}";
        await using var process = await GatewayServerProcess.StartAsync(_database.Directory, new Dictionary<string, string?> { ["DATABASE_URL"] = url });
        var exitCode = await process.WaitForExitAsync(ExitTimeout);

        Assert.Equal(1, exitCode);
        Assert.Contains("PostgreSQL 3D000", process.Output, StringComparison.Ordinal);
        Assert.Contains("createdb", process.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task On_a_fresh_postgres_database_applies_every_migration_at_start_registers_the_node_and_reports_ready()
    {
        await using var postgres = await TestPostgres.CreateDatabaseAsync("startup");
        await using var server = await GatewayServerProcess.StartAsync(
            _database.Directory, new Dictionary<string, string?> { ["DATABASE_URL"] = postgres.Url, ["Node__Id"] = "pg-start" });

        Assert.False(server.HasExited, server.Output);
        Assert.Equal(HttpStatusCode.OK, await GetStatusAsync(server.BaseAddress, "/health/ready"));
        await using var connection = postgres.Open();
        await using var applied = new Npgsql.NpgsqlCommand("SELECT (SELECT count(*) FROM _sqlx_migrations WHERE success), (SELECT count(*) FROM _gateway_migrations WHERE success), (SELECT count(*) FROM gateway_nodes WHERE id = 'pg-start')", connection);
        await using var reader = await applied.ExecuteReaderAsync();
        Assert.True(await reader.ReadAsync());
        Assert.Equal((7L, 3L, 1L), (reader.GetInt64(0), reader.GetInt64(1), reader.GetInt64(2)));
    }

    [Fact]
    public async Task Refuses_to_start_with_pending_migrations_when_applying_at_start_is_off()
    {
        await using var server = await GatewayServerProcess.StartAsync(
            _database.Directory, WithDatabaseUrl(("Migrations__ApplyAtStartup", "false")));
        var exitCode = await server.WaitForExitAsync(ExitTimeout);

        Assert.Equal(1, exitCode);
        Assert.Contains("10 migrations are pending", server.Output, StringComparison.Ordinal);
        Assert.Equal(0, CountTables());
    }

    [Fact]
    public async Task Starts_with_applying_off_when_the_database_is_up_to_date()
    {
        using (await _database.OpenFullyMigratedAsync())
        {
        }

        await using var server = await GatewayServerProcess.StartAsync(
            _database.Directory, WithDatabaseUrl(("Migrations__ApplyAtStartup", "false")));

        Assert.False(server.HasExited, server.Output);
        Assert.Equal(HttpStatusCode.OK, await GetStatusAsync(server.BaseAddress, "/health/ready"));
    }

    [Fact]
    public async Task Readiness_fails_when_a_migration_is_reverted_under_a_running_server()
    {
        await using var server = await GatewayServerProcess.StartAsync(_database.Directory, WithDatabaseUrl());
        Assert.False(server.HasExited, server.Output);

        var revert = await GatewayExecutable.RunAsync(_database.Directory, WithDatabaseUrl(), "migrate", "revert");

        Assert.Equal(0, revert.ExitCode);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, await GetStatusAsync(server.BaseAddress, "/health/ready"));
        Assert.Equal(HttpStatusCode.OK, await GetStatusAsync(server.BaseAddress, "/health/live"));
    }

    [Fact]
    public async Task Database_url_variable_wins_over_appsettings()
    {
        var other = Path.Combine(_database.Directory, "from-settings.db");

        await using var server = await GatewayServerProcess.StartAsync(
            _database.Directory, WithDatabaseUrl(("Database__Url", $"sqlite:{other}")));

        Assert.False(server.HasExited, server.Output);
        Assert.Equal(7, CountApplied());
        Assert.False(File.Exists(other));
    }

    private long CountTables() => _database.QueryLong("SELECT COUNT(*) FROM sqlite_master WHERE type = 'table'");
}
