using System.Diagnostics;
using Gateway.Migrations;
using Npgsql;

namespace Gateway.Testing;

/// <summary>
/// The PostgreSQL server the tests use: <c>GATEWAY_TEST_POSTGRES_URL</c> when set, else the throwaway cluster that
/// <c>tests/postgres.sh start</c> runs on loopback (started here once per test process when it is not running).
/// Every test gets a database of its own (<see cref="CreateDatabaseAsync"/>), dropped when disposed.
/// </summary>
public static class TestPostgres
{
    public const string UrlVariable = "GATEWAY_TEST_POSTGRES_URL";

    private static readonly Lazy<Task<string>> Server = new(StartAsync);

    /// <summary>The URL of the server's maintenance database (<c>postgres</c>).</summary>
    public static Task<string> ServerUrlAsync() => Server.Value;

    private static readonly Lazy<Task<string>> MigratedTemplate = new(CreateMigratedTemplateAsync);

    /// <summary>A fresh, empty database on the test server.</summary>
    public static Task<TemporaryPostgresDatabase> CreateDatabaseAsync(string prefix = "test") => CreateAsync(prefix, template: null);

    /// <summary>
    /// A fresh database with both migration sets applied, as the server leaves it: copied from a template migrated once
    /// per test process (a copy takes a fraction of running the ten migrations), with an epoch of its own.
    /// </summary>
    public static async Task<TemporaryPostgresDatabase> CreateMigratedDatabaseAsync(string prefix = "test")
    {
        // A copy costs about half a second; a database a test gave back, emptied, a few milliseconds.
        if (!Recycled.TryTake(out var database))
        {
            database = await CreateAsync(prefix, await MigratedTemplate.Value);
            database.Recycle = Recycled.Add;
        }

        await using var connection = database.Open();
        await using var epoch = new NpgsqlCommand("UPDATE gateway_log SET epoch = replace(gen_random_uuid()::text, '-', '')", connection);
        await epoch.ExecuteNonQueryAsync();
        return database;
    }

    private static readonly System.Collections.Concurrent.ConcurrentBag<TemporaryPostgresDatabase> Recycled = CreateRecycled();

    private static System.Collections.Concurrent.ConcurrentBag<TemporaryPostgresDatabase> CreateRecycled()
    {
        var bag = new System.Collections.Concurrent.ConcurrentBag<TemporaryPostgresDatabase>();
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            while (bag.TryTake(out var database))
            {
                database.Recycle = null;
                database.Dispose();
            }
        };
        return bag;
    }

    private static async Task<TemporaryPostgresDatabase> CreateAsync(string prefix, string? template)
    {
        var serverUrl = await ServerUrlAsync();
        var name = $"{prefix}_{Guid.NewGuid():N}"[..Math.Min(prefix.Length + 33, 63)];
        await using (var connection = new NpgsqlConnection(PostgresDatabaseUrl.Parse(serverUrl).ConnectionString))
        {
            await connection.OpenAsync();
            await using var create = new NpgsqlCommand($"CREATE DATABASE \"{name}\"{(template is null ? "" : $" TEMPLATE \"{template}\"")}", connection);
            await create.ExecuteNonQueryAsync();
        }

        var builder = new Uri(serverUrl);
        return new TemporaryPostgresDatabase(serverUrl, name, $"{builder.Scheme}://{builder.UserInfo}@{builder.Host}:{builder.Port}/{name}");
    }

    private static async Task<string> CreateMigratedTemplateAsync()
    {
        var template = await CreateAsync("gateway_template", template: null);
        // Without pooling: a copy needs the template without connections.
        await using (var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(template.ConnectionString) { Pooling = false }.ConnectionString))
        {
            await connection.OpenAsync();
            foreach (var set in new[] { MigrationSet.Orchestrator(RepositoryPaths.PostgresMigrations), new MigrationSet("gateway", RepositoryPaths.GatewayPostgresMigrations, MigrationSet.GatewayBookkeepingTable) })
            {
                await new Migrator(set, new PostgresMigrationStore(connection, set.BookkeepingTable)).RunAsync(null, CancellationToken.None);
            }
        }

        // Dropped when the test process ends; the test command's cluster goes with the run anyway.
        AppDomain.CurrentDomain.ProcessExit += (_, _) => template.Dispose();
        return template.Name;
    }

    private static async Task<string> StartAsync()
    {
        if (Environment.GetEnvironmentVariable(UrlVariable) is { Length: > 0 } given)
        {
            return given;
        }

        var start = new ProcessStartInfo("bash", [Path.Combine(RepositoryPaths.Root, "tests", "postgres.sh"), "start"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"tests/postgres.sh start failed ({process.ExitCode}): {await error}");
        }

        return (await output).Trim();
    }
}

/// <summary>A database of its own for one test; dropped (its connections ended) when disposed.</summary>
public sealed class TemporaryPostgresDatabase : IAsyncDisposable, ITestDatabase
{
    private readonly string _serverUrl;

    internal TemporaryPostgresDatabase(string serverUrl, string name, string url)
    {
        _serverUrl = serverUrl;
        Name = name;
        Url = url;
        ConnectionString = PostgresDatabaseUrl.Parse(url).ConnectionString;
    }

    public string Name { get; }

    /// <summary>sqlx's form, as DATABASE_URL takes it.</summary>
    public string Url { get; }

    public string ConnectionString { get; }

    string ITestDatabase.DatabaseUrl => Url;

    public bool IsPostgres => true;

    public System.Data.Common.DbConnection OpenConnection() => Open();

    public void Dispose() => DisposeAsync().AsTask().GetAwaiter().GetResult();

    public NpgsqlConnection Open()
    {
        var connection = new NpgsqlConnection(ConnectionString);
        connection.Open();
        return connection;
    }

    /// <summary>Set for a migrated database: disposing empties it (ending every other connection to it) and hands it back here.</summary>
    internal Action<TemporaryPostgresDatabase>? Recycle { get; set; }

    /// <summary>For a test that changes the schema: dropped when disposed, never handed to another test.</summary>
    public void DoNotReuse() => Recycle = null;

    /// <summary>
    /// Each lease is an object of its own: a test that disposes twice must not empty the database under its next holder,
    /// nor hand it out twice.
    /// </summary>
    private int _disposed;

    /// <summary>Every table's rows, the identities restarted, the log's floor at 0; the schema and its bookkeeping stay.</summary>
    private const string Empty =
        """
        SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid();
        TRUNCATE tasks, workflows, workflow_tasks, tool_executions, sessions, configurations,
                 gateway_events, gateway_workflow_owners, gateway_nodes, gateway_signals RESTART IDENTITY CASCADE;
        UPDATE gateway_log SET retention_floor = 0;
        """;

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        if (Recycle is { } recycle)
        {
            try
            {
                await using (var emptying = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(ConnectionString) { Pooling = false }.ConnectionString))
                {
                    await emptying.OpenAsync();
                    await using var empty = new NpgsqlCommand(Empty, emptying);
                    await empty.ExecuteNonQueryAsync();
                }

                // Pooled connections to it (the test's, any a CLI or server in this process left) were just ended.
                NpgsqlConnection.ClearAllPools();

                recycle(new TemporaryPostgresDatabase(_serverUrl, Name, Url) { Recycle = recycle });
                return;
            }
            catch (NpgsqlException)
            {
                // Not reusable: dropped below.
            }
        }

        await using var connection = new NpgsqlConnection(PostgresDatabaseUrl.Parse(_serverUrl).ConnectionString);
        await connection.OpenAsync();
        await using var drop = new NpgsqlCommand($"DROP DATABASE IF EXISTS \"{Name}\" WITH (FORCE)", connection);
        await drop.ExecuteNonQueryAsync();
    }
}
