using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text.Json;
using Gateway.Contracts;
using Microsoft.AspNetCore.Http.Connections;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;

namespace Gateway.Bench;

/// <summary>A running SignalR server under test: Gateway (token, database) or B1 (bare hub).</summary>
internal sealed class HubTarget : IAsyncDisposable
{
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(30) };

    private HubTarget(string name, ServerProcess server, string? token, string? databasePath)
    {
        Name = name;
        Server = server;
        Token = token;
        DatabasePath = databasePath;
    }

    public string Name { get; }

    public ServerProcess Server { get; }

    public string? Token { get; }

    /// <summary>The gateway's SQLite file (its PostgreSQL URL on PostgreSQL); null for a baseline.</summary>
    public string? DatabasePath { get; }

    public bool IsGateway => DatabasePath is not null;

    /// <param name="dataDirectory">A data folder shared with other nodes (scenario e); null: the node's own.</param>
    /// <param name="databaseUrl">A PostgreSQL database (scenario f); null: the SQLite file of the data folder.</param>
    public static async Task<HubTarget> StartGatewayAsync(BenchOptions options, string label, string token, string? dataDirectory = null, string? databaseUrl = null)
    {
        var dir = Path.Combine(options.WorkDir, label);
        var url = new Uri($"http://127.0.0.1:{FreePort()}");
        var environment = GatewayEnvironment(options, dir);
        if (dataDirectory is not null)
        {
            environment["Database__DataDirectory"] = dataDirectory;
        }

        if (databaseUrl is not null)
        {
            environment["DATABASE_URL"] = databaseUrl;
            var postgresServer = await ServerProcess.StartAsync(options, label, options.GatewayDll, [], AddUrl(environment, url, label), url, dir);
            return new HubTarget("Gateway", postgresServer, token, databaseUrl);
        }

        environment["Urls"] = url.ToString();
        environment["Node__Id"] = "bench-" + label;
        var server = await ServerProcess.StartAsync(options, label, options.GatewayDll, [], environment, url, dir);
        return new HubTarget("Gateway", server, token, Path.Combine(dataDirectory ?? Path.Combine(dir, "data"), "gateway.db"));
    }

    public static async Task<HubTarget> StartBareHubAsync(BenchOptions options, string label)
    {
        var dir = Path.Combine(options.WorkDir, label);
        var url = new Uri($"http://127.0.0.1:{FreePort()}");
        var server = await ServerProcess.StartAsync(options, label, options.BaselinesDll, ["b1", "--urls", url.ToString()], new Dictionary<string, string>(), url, dir);
        return new HubTarget("B1", server, token: null, databasePath: null);
    }

    /// <summary>B1+JWT: B1 behind JwtBearer with the gateway's validation rules and the suite's key; connects with <paramref name="token"/>.</summary>
    public static async Task<HubTarget> StartAuthenticatedHubAsync(BenchOptions options, string label, string token)
    {
        var dir = Path.Combine(options.WorkDir, label);
        var url = new Uri($"http://127.0.0.1:{FreePort()}");
        var server = await ServerProcess.StartAsync(
            options, label, options.BaselinesDll, ["b1", "--urls", url.ToString(), "--jwt-key", options.SigningKey], new Dictionary<string, string>(), url, dir);
        return new HubTarget("B1+JWT", server, token, databasePath: null);
    }

    /// <summary>B2: B1 that commits each change to a migrated copy of the gateway's schema before broadcasting it.</summary>
    public static async Task<HubTarget> StartDurableHubAsync(BenchOptions options, string label)
    {
        var dir = Path.Combine(options.WorkDir, label);
        var database = await MigratedDatabaseAsync(options, dir, "b2.db");
        var url = new Uri($"http://127.0.0.1:{FreePort()}");
        var server = await ServerProcess.StartAsync(
            options, label, options.BaselinesDll, ["b2", "--urls", url.ToString(), "--database", database], new Dictionary<string, string>(), url, dir);
        return new HubTarget("B2", server, token: null, databasePath: null);
    }

    private static Dictionary<string, string> AddUrl(Dictionary<string, string> environment, Uri url, string label)
    {
        environment["Urls"] = url.ToString();
        environment["Node__Id"] = "bench-" + label;
        return environment;
    }

    /// <summary>A new, empty PostgreSQL database on <see cref="BenchOptions.Postgres"/>; its URL in sqlx's form.</summary>
    public static async Task<string> CreatePostgresDatabaseAsync(BenchOptions options, string name)
    {
        var server = new Uri(options.Postgres ?? throw new InvalidOperationException("--postgres URL is needed"));
        await using (var connection = new Npgsql.NpgsqlConnection(PostgresConnectionString(server.ToString())))
        {
            await connection.OpenAsync();
            await using var drop = new Npgsql.NpgsqlCommand($"DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)", connection);
            await drop.ExecuteNonQueryAsync();
            await using var create = new Npgsql.NpgsqlCommand($"CREATE DATABASE \"{name}\"", connection);
            await create.ExecuteNonQueryAsync();
        }

        return $"{server.Scheme}://{server.UserInfo}@{server.Host}:{server.Port}/{name}";
    }

    /// <summary>An Npgsql connection string for a URL of sqlx's form (user, optional password, host, port, database).</summary>
    public static string PostgresConnectionString(string url)
    {
        var uri = new Uri(url);
        var user = Uri.UnescapeDataString(uri.UserInfo.Split(':')[0]);
        var password = uri.UserInfo.Contains(':') ? Uri.UnescapeDataString(uri.UserInfo[(uri.UserInfo.IndexOf(':') + 1)..]) : null;
        return new Npgsql.NpgsqlConnectionStringBuilder
        {
            Host = uri.Host,
            Port = uri.Port > 0 ? uri.Port : 5432,
            Username = user,
            Password = password,
            Database = uri.AbsolutePath.TrimStart('/'),
        }.ConnectionString;
    }

    /// <summary>A PostgreSQL database migrated by the gateway's own CLI, for a baseline to write into.</summary>
    public static async Task<string> MigratedPostgresDatabaseAsync(BenchOptions options, string dir, string name)
    {
        Directory.CreateDirectory(dir);
        var database = await CreatePostgresDatabaseAsync(options, name);
        var environment = GatewayEnvironment(options, dir);
        environment["DATABASE_URL"] = database;
        var (code, _, error) = await RunGatewayCliAsync(options, environment, "migrate", "run");
        return code == 0 ? database : throw new InvalidOperationException($"migrate run failed ({code}): {error}");
    }

    /// <summary>An empty database with the gateway's schema, migrated by the gateway's own CLI, for a baseline to write into.</summary>
    public static async Task<string> MigratedDatabaseAsync(BenchOptions options, string dir, string fileName)
    {
        Directory.CreateDirectory(dir);
        var database = Path.Combine(dir, fileName);
        var environment = GatewayEnvironment(options, dir);
        environment["DATABASE_URL"] = "sqlite:" + database;
        var (code, _, error) = await RunGatewayCliAsync(options, environment, "migrate", "run");
        return code == 0 ? database : throw new InvalidOperationException($"migrate run failed ({code}): {error}");
    }

    public static Dictionary<string, string> GatewayEnvironment(BenchOptions options, string dir) => new()
    {
        ["Database__DataDirectory"] = Path.Combine(dir, "data"),
        ["Auth__SigningKey"] = options.SigningKey,
        ["Limits__MaxConnections"] = "1000000",
        ["Limits__MaxConnectionsPerUser"] = "1000000",
        // 0: no per-connection rate limit (drivers send hundreds of changes a second on one connection).
        ["Limits__InvocationsPerSecond"] = "0",
        // 0: no per-address limit on connection attempts (scenario c opens thousands from this machine) nor per-user REST limits.
        ["RateLimits__ConnectsPerSecond"] = "0",
        ["RateLimits__WritesPerSecond"] = "0",
        ["RateLimits__ReadsPerSecond"] = "0",
    };

    /// <summary>Mints an admin token with the gateway's own CLI and the suite's signing key.</summary>
    public static async Task<string> MintTokenAsync(BenchOptions options)
    {
        var (code, output, error) = await RunGatewayCliAsync(options, GatewayEnvironment(options, Path.Combine(options.WorkDir, "cli")),
            "token", "create", "--user", "bench", "--role", "admin", "--ttl", "6h");
        return code == 0 ? output.Trim() : throw new InvalidOperationException($"token create failed ({code}): {error}");
    }

    public static async Task<(int Code, string Output, string Error)> RunGatewayCliAsync(
        BenchOptions options, IReadOnlyDictionary<string, string> environment, params string[] args)
    {
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add(options.GatewayDll);
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        foreach (var (key, value) in environment)
        {
            info.Environment[key] = value;
        }

        using var process = Process.Start(info)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return (process.ExitCode, await output, await error);
    }

    public HubConnection Connection()
    {
        var token = Token;
        var connection = new HubConnectionBuilder()
            .WithUrl(new Uri(Server.Url, GatewayRoutes.Hub), HttpTransportType.WebSockets, http =>
            {
                http.SkipNegotiation = true;
                if (token is not null)
                {
                    http.AccessTokenProvider = () => Task.FromResult<string?>(token);
                }
            })
            .AddMessagePackProtocol()
            .Build();
        connection.ServerTimeout = TimeSpan.FromMinutes(5);
        connection.HandshakeTimeout = TimeSpan.FromMinutes(1);
        return connection;
    }

    /// <summary>Starts a connection and waits for ConnectionEstablished (both servers send it once the session is ready).</summary>
    public async Task<HubConnection> ConnectAsync(Action<HubConnection>? configure = null)
    {
        var connection = Connection();
        var established = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var registration = connection.On<ConnectionEstablished>(nameof(IGatewayClient.ConnectionEstablished), _ => established.TrySetResult());
        configure?.Invoke(connection);
        await connection.StartAsync();
        await established.Task.WaitAsync(TimeSpan.FromSeconds(60));
        return connection;
    }

    /// <summary>Ids of <paramref name="count"/> running tasks to change (gateway: created and started; B1: names).</summary>
    public async Task<string[]> PrepareTasksAsync(HubConnection driver, int count)
    {
        if (!IsGateway)
        {
            return Enumerable.Range(0, count).Select(i => "task-" + i.ToString(CultureInfo.InvariantCulture)).ToArray();
        }

        var ids = new string[count];
        for (var i = 0; i < count; i++)
        {
            var task = await driver.InvokeAsync<TaskInfo>(nameof(ITaskHub.CreateTask), new CreateTaskCommand("bench " + i.ToString(CultureInfo.InvariantCulture), "bench"));
            await driver.InvokeAsync<TaskInfo>(nameof(ITaskHub.ChangeTaskStatus), task.Id, new ChangeTaskStatusCommand("running"));
            ids[i] = task.Id;
        }

        return ids;
    }

    /// <summary>Database transactions the gateway committed so far (session writer + change writer); 0 for a baseline.</summary>
    public async Task<long> CommitsAsync()
    {
        if (!IsGateway)
        {
            return 0;
        }

        using var stats = new HttpRequestMessage(HttpMethod.Get, new Uri(Server.Url, "/api/realtime/stats"));
        stats.Headers.Authorization = new AuthenticationHeaderValue("Bearer", Token);
        using var statsResponse = await Http.SendAsync(stats);
        statsResponse.EnsureSuccessStatusCode();
        using var document = JsonDocument.Parse(await statsResponse.Content.ReadAsStringAsync());
        var sessions = document.RootElement.GetProperty("sessionWriteTransactions").GetInt64();
        return sessions + await ChangeTransactionsAsync();
    }

    private async Task<long> ChangeTransactionsAsync()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(Server.Url, "/metrics"));
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", Token);
        using var response = await Http.SendAsync(request);
        response.EnsureSuccessStatusCode();
        var total = 0L;
        foreach (var line in (await response.Content.ReadAsStringAsync()).Split('\n'))
        {
            if (line.StartsWith("gateway_db_operation_duration", StringComparison.Ordinal)
                && line.Contains("_count", StringComparison.Ordinal)
                && line.Contains("writer=\"changes\"", StringComparison.Ordinal))
            {
                var value = line[(line.LastIndexOf('}') + 1)..].Trim().Split(' ')[0];
                total += (long)double.Parse(value, CultureInfo.InvariantCulture);
            }
        }

        return total;
    }

    /// <summary>Active session rows in the gateway's file, read on a read-only connection.</summary>
    public long ActiveSessionRows()
    {
        using var connection = new SqliteConnection(new SqliteConnectionStringBuilder
        {
            DataSource = DatabasePath,
            Mode = SqliteOpenMode.ReadOnly,
            Pooling = false,
        }.ConnectionString);
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT count(*) FROM sessions WHERE is_active = 1";
        return Convert.ToInt64(command.ExecuteScalar(), CultureInfo.InvariantCulture);
    }

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public ValueTask DisposeAsync() => Server.DisposeAsync();
}
