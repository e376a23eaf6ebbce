using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Gateway.Migrations;
using Npgsql;

namespace Gateway.Testing;

/// <summary>
/// A PostgreSQL cluster of one test's own, with its own files and port (<c>tests/postgres.sh</c> with
/// GATEWAY_TEST_PG_ROOT and GATEWAY_TEST_PG_PORT), for a test that halts the server: the shared cluster stays up for
/// every other test. Deleted when disposed.
/// </summary>
public sealed class OwnPostgresCluster : IAsyncDisposable
{
    private readonly string _root;
    private readonly int _port;

    private OwnPostgresCluster(string root, int port)
    {
        _root = root;
        _port = port;
    }

    /// <summary>The URL of its maintenance database.</summary>
    public string Url => $"postgres://postgres@127.0.0.1:{_port}/postgres";

    public static async Task<OwnPostgresCluster> StartAsync()
    {
        var cluster = new OwnPostgresCluster(Path.Combine(Path.GetTempPath(), "gateway-own-pg-" + Guid.NewGuid().ToString("N")[..8]), FreePort());
        await cluster.RunAsync("start");
        return cluster;
    }

    /// <summary>Stops the server at once, as a crash would: every connection cut, recovery at the next start.</summary>
    public Task HaltAsync() => RunAsync("halt");

    /// <summary>Starts the halted server again, on the same port and files.</summary>
    public Task RestartAsync() => RunAsync("start");

    /// <summary>A new empty database; a gateway started on it applies its migrations.</summary>
    public async Task<ITestDatabase> CreateDatabaseAsync(string name)
    {
        await using (var connection = new NpgsqlConnection(PostgresDatabaseUrl.Parse(Url).ConnectionString))
        {
            await connection.OpenAsync();
            await using var create = new NpgsqlCommand($"CREATE DATABASE \"{name}\"", connection);
            await create.ExecuteNonQueryAsync();
        }

        // Not dropped one by one: the cluster goes with its files.
        return new TemporaryPostgresDatabase(Url, name, $"postgres://postgres@127.0.0.1:{_port}/{name}");
    }

    public async ValueTask DisposeAsync()
    {
        NpgsqlConnection.ClearAllPools();
        await RunAsync("stop");
    }

    private static int FreePort()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }

    private async Task RunAsync(string command)
    {
        var start = new ProcessStartInfo("bash", [Path.Combine(RepositoryPaths.Root, "tests", "postgres.sh"), command])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            Environment = { ["GATEWAY_TEST_PG_ROOT"] = _root, ["GATEWAY_TEST_PG_PORT"] = _port.ToString(System.Globalization.CultureInfo.InvariantCulture) },
        };
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        await output;
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"tests/postgres.sh {command} failed ({process.ExitCode}): {await error}");
        }
    }
}
