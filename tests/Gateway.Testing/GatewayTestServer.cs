using System.Security.Claims;
using System.Text;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Gateway.Testing;

/// <summary>
/// The real gateway (Program) on a real Kestrel port on 127.0.0.1, with its own database (a SQLite file, or a PostgreSQL
/// database in a run with <see cref="TestDatabases.ProviderVariable"/>=postgres), node id and signing key.
/// Tests mint tokens here with the key, independently of the gateway's own issuer.
/// </summary>
public sealed class GatewayTestServer : WebApplicationFactory<Program>
{
    private readonly Dictionary<string, string?> _settings;
    private readonly Dictionary<(string User, string Role), HttpClient> _clients = [];
    private readonly Action<IServiceCollection>? _configureServices;

    static GatewayTestServer() => TestThreadPool.RaiseMinimum();

    /// <param name="settings">Overrides, e.g. <c>["Sessions:FlushIntervalSeconds"] = "0.2"</c>.</param>
    /// <param name="database">A database to reuse (to restart a server on it, or to put several nodes on one); a fresh one of the run's provider when null.</param>
    /// <param name="configureServices">Runs after the gateway's own registrations, e.g. to add a log-capturing <c>ILoggerProvider</c>.</param>
    public GatewayTestServer(
        IReadOnlyDictionary<string, string?>? settings = null,
        ITestDatabase? database = null,
        string? nodeId = null,
        Action<IServiceCollection>? configureServices = null)
    {
        _configureServices = configureServices;
        OwnsDatabase = database is null;
        Store = database ?? TestDatabases.Create("gateway.db");
        NodeId = nodeId ?? "test-node-" + Guid.NewGuid().ToString("N")[..8];
        _settings = new Dictionary<string, string?>(StringComparer.Ordinal)
        {
            ["DATABASE_URL"] = Store.DatabaseUrl,
            ["Node:Id"] = NodeId,
            ["Auth:SigningKey"] = SigningKey,
            ["Auth:ClockSkewSeconds"] = "0",
            ["Logging:LogLevel:Default"] = "Warning",
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            _settings[key] = value;
        }

        UseKestrel(0);
    }

    /// <summary>The same for every test server, so a token can be minted before a server restarts.</summary>
    public static string SigningKey => "gateway-tests-signing-key-0123456789-abcdefghijklmnopqrstuvwxyz";

    /// <summary>The server's database, on whichever provider this run uses.</summary>
    public ITestDatabase Store { get; }

    /// <summary>The server's SQLite file, for the tests that run on SQLite only.</summary>
    public TemporarySqliteFile Database => Store as TemporarySqliteFile
        ?? throw new InvalidOperationException("this test server runs on PostgreSQL: a test that runs on both providers reads its rows through Store");

    public bool OwnsDatabase { get; }

    public string NodeId { get; }

    /// <summary>Starts Kestrel if needed and returns its loopback address.</summary>
    public Uri BaseAddress
    {
        get
        {
            StartServer();
            var addresses = Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses;
            return new Uri(addresses.First().Replace("[::]", "127.0.0.1", StringComparison.Ordinal).Replace("localhost", "127.0.0.1", StringComparison.Ordinal));
        }
    }

    public Uri HubUrl => new(BaseAddress, "/hubs/gateway");

    /// <summary>A JWT the gateway accepts, signed with <see cref="SigningKey"/>.</summary>
    public static string Token(string userId, params string[] roles) => Token(userId, TimeSpan.FromHours(1), roles);

    public static string Token(string userId, TimeSpan lifetime, params string[] roles)
    {
        var now = DateTime.UtcNow;
        var claims = new List<Claim> { new("sub", userId) };
        claims.AddRange(roles.Select(role => new Claim("role", role)));
        return new JsonWebTokenHandler { SetDefaultTimesOnTokenCreation = false }.CreateToken(new SecurityTokenDescriptor
        {
            Subject = new ClaimsIdentity(claims),
            Issuer = "gateway",
            Audience = "gateway",
            IssuedAt = now,
            NotBefore = now.AddSeconds(-1),
            Expires = now + lifetime,
            SigningCredentials = new SigningCredentials(new SymmetricSecurityKey(Encoding.UTF8.GetBytes(SigningKey)), SecurityAlgorithms.HmacSha256),
        });
    }

    /// <summary>An HTTP client on the real port, with a bearer token when given.</summary>
    public HttpClient CreateHttpClient(string? token = null)
    {
        var client = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(30) };
        if (token is not null)
        {
            client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
        }

        return client;
    }

    /// <summary>An HTTP client of <paramref name="user"/> with one role, made once per server and disposed with it.</summary>
    public HttpClient As(string user, string role)
    {
        lock (_clients)
        {
            if (!_clients.TryGetValue((user, role), out var client))
            {
                client = CreateHttpClient(Token(user, role));
                _clients[(user, role)] = client;
            }

            return client;
        }
    }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        foreach (var (key, value) in _settings)
        {
            builder.UseSetting(key, value);
        }

        if (_configureServices is not null)
        {
            builder.ConfigureServices(_configureServices);
        }
    }

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        if (disposing)
        {
            lock (_clients)
            {
                foreach (var client in _clients.Values)
                {
                    client.Dispose();
                }

                _clients.Clear();
            }
        }

        if (disposing && OwnsDatabase)
        {
            Store.Dispose();
        }
    }
}
