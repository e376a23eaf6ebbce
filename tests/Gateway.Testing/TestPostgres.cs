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

    /// <summary>A fresh, empty database on the test server.</summary>
    public static async Task<TemporaryPostgresDatabase> CreateDatabaseAsync(string prefix = "test")
    {
        var serverUrl = await ServerUrlAsync();
        var name = $"{prefix}_{Guid.NewGuid():N}"[..Math.Min(prefix.Length + 33, 63)];
        await using (var connection = new NpgsqlConnection(PostgresDatabaseUrl.Parse(serverUrl).ConnectionString))
        {
            await connection.OpenAsync();
            await using var create = new NpgsqlCommand($"CREATE DATABASE \"{name}\"", connection);
            await create.ExecuteNonQueryAsync();
        }

        var builder = new Uri(serverUrl);
        return new TemporaryPostgresDatabase(serverUrl, name, $"{builder.Scheme}://{builder.UserInfo}@{builder.Host}:{builder.Port}/{name}");
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
public sealed class TemporaryPostgresDatabase : IAsyncDisposable
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

    public NpgsqlConnection Open()
    {
        var connection = new NpgsqlConnection(ConnectionString);
        connection.Open();
        return connection;
    }

    public async ValueTask DisposeAsync()
    {
        await using var connection = new NpgsqlConnection(PostgresDatabaseUrl.Parse(_serverUrl).ConnectionString);
        await connection.OpenAsync();
        await using var drop = new NpgsqlCommand($"DROP DATABASE IF EXISTS \"{Name}\" WITH (FORCE)", connection);
        await drop.ExecuteNonQueryAsync();
    }
}
