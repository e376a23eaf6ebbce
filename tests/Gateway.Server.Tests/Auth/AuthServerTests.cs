using System.Net;
using System.Net.Http.Headers;
using System.Security.Claims;
using System.Text.Json;
using Gateway.Server.Auth;
using Gateway.Server.Database;
using Gateway.Testing;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Gateway.Server.Tests.Auth;

/// <summary>
/// Bearer tokens against the real server in its own process, started in the same working directory as the
/// <c>token create</c> commands, so both resolve the same key file.
/// </summary>
public sealed class AuthServerTests : IDisposable
{
    private static readonly TimeSpan ExitTimeout = TimeSpan.FromSeconds(30);
    private readonly TemporarySqliteFile _folder = new();

    public void Dispose() => _folder.Dispose();

    private string KeyFile => Path.Combine(_folder.Directory, "data", SigningKeyStore.KeyFileName);

    private Task<GatewayServerProcess> StartServerAsync(params (string Key, string Value)[] settings) =>
        GatewayServerProcess.StartAsync(_folder.Directory, settings.ToDictionary(s => s.Key, s => (string?)s.Value));

    private async Task<string> MintAsync(string user, params string[] roles)
    {
        var result = await GatewayExecutable.RunAsync(
            _folder.Directory, environment: null, ["token", "create", "--user", user, .. roles.SelectMany(r => new[] { "--role", r })]);
        Assert.True(result.ExitCode == 0, result.ToString());
        return result.Output.Trim();
    }

    /// <summary>A token from the gateway's own issuer, in-process, with the key file of this working directory.</summary>
    private string MintInProcess(string user, TimeSpan lifetime, DateTimeOffset issuedAt, AuthOptions? options = null)
    {
        options ??= new AuthOptions();
        var keys = new SigningKeyStore(options, new DatabaseOptions { DataDirectory = Path.GetDirectoryName(KeyFile)! });
        return new TokenIssuer(options, keys, new FixedTimeProvider(issuedAt)).Create(user, ["dashboard"], lifetime);
    }

    private static async Task<(HttpStatusCode Status, string Body, string WwwAuthenticate)> GetAsync(GatewayServerProcess server, string path, string? token = null)
    {
        using var client = new HttpClient { BaseAddress = server.BaseAddress, Timeout = TimeSpan.FromSeconds(10) };
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(path, UriKind.Relative));
        if (token is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        using var response = await client.SendAsync(request);
        return (response.StatusCode, await response.Content.ReadAsStringAsync(), response.Headers.WwwAuthenticate.ToString());
    }

    private static async Task<JsonElement> MeAsync(GatewayServerProcess server, string? token)
    {
        var (status, body, _) = await GetAsync(server, "/api/me", token);
        Assert.True(status == HttpStatusCode.OK, $"{status}: {body}\n{server.Output}");
        return JsonDocument.Parse(body).RootElement.Clone();
    }

    private static List<string> Roles(JsonElement me) => me.GetProperty("roles").EnumerateArray().Select(r => r.GetString()!).ToList();

    private static void AssertNoErrorLogs(GatewayServerProcess server)
    {
        Assert.DoesNotContain("fail:", server.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("crit:", server.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Without_a_token_api_me_is_401_and_health_answers()
    {
        await using var server = await StartServerAsync();
        Assert.False(server.HasExited, server.Output);

        var (status, _, challenge) = await GetAsync(server, "/api/me");

        Assert.Equal(HttpStatusCode.Unauthorized, status);
        Assert.Equal("Bearer", challenge);
        Assert.Equal(HttpStatusCode.OK, (await GetAsync(server, "/health/live")).Status);
        Assert.Equal(HttpStatusCode.OK, (await GetAsync(server, "/health/ready")).Status);
        AssertNoErrorLogs(server);
    }

    [Fact]
    public async Task Tokens_minted_by_the_cli_before_and_after_the_server_started_are_accepted()
    {
        var alice = await MintAsync("alice", "admin", "dashboard");
        var key = await File.ReadAllTextAsync(KeyFile);
        await using var server = await StartServerAsync();
        Assert.False(server.HasExited, server.Output);
        var bob = await MintAsync("bob", "agent");

        var aliceMe = await MeAsync(server, alice);
        var bobMe = await MeAsync(server, bob);

        Assert.Equal("alice", aliceMe.GetProperty("userId").GetString());
        Assert.Equal(["admin", "dashboard"], Roles(aliceMe));
        Assert.InRange(aliceMe.GetProperty("expiresAt").GetDateTimeOffset(), DateTimeOffset.UtcNow.AddHours(12).AddMinutes(-2), DateTimeOffset.UtcNow.AddHours(12));
        Assert.Equal("bob", bobMe.GetProperty("userId").GetString());
        Assert.Equal(["agent"], Roles(bobMe));
        Assert.Equal(key, await File.ReadAllTextAsync(KeyFile));
        Assert.Contains("[2002]", server.Output, StringComparison.Ordinal);
        AssertNoErrorLogs(server);
    }

    [Fact]
    public async Task The_server_creates_the_key_file_at_start_and_the_cli_signs_with_it()
    {
        await using var server = await StartServerAsync();
        Assert.False(server.HasExited, server.Output);
        Assert.True(File.Exists(KeyFile), server.Output);
        Assert.Contains("[2003]", server.Output, StringComparison.Ordinal);
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(KeyFile));
        }

        var me = await MeAsync(server, await MintAsync("carol", "dashboard"));

        Assert.Equal("carol", me.GetProperty("userId").GetString());
    }

    [Fact]
    public async Task An_expired_token_is_refused_once_past_the_clock_skew()
    {
        await using var server = await StartServerAsync();
        Assert.False(server.HasExited, server.Output);
        var now = DateTimeOffset.UtcNow;

        var longExpired = await GetAsync(server, "/api/me", MintInProcess("old", TimeSpan.FromMinutes(10), now.AddMinutes(-15)));
        var withinSkew = await GetAsync(server, "/api/me", MintInProcess("recent", TimeSpan.FromMinutes(10), now.AddMinutes(-10).AddSeconds(-5)));

        Assert.Equal(HttpStatusCode.Unauthorized, longExpired.Status);
        Assert.Contains("expired", longExpired.WwwAuthenticate, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, withinSkew.Status);
    }

    [Fact]
    public async Task With_no_clock_skew_a_token_expired_seconds_ago_is_refused()
    {
        await using var server = await StartServerAsync(("Auth__ClockSkewSeconds", "0"));
        Assert.False(server.HasExited, server.Output);
        var now = DateTimeOffset.UtcNow;

        var expired = await GetAsync(server, "/api/me", MintInProcess("recent", TimeSpan.FromMinutes(10), now.AddMinutes(-10).AddSeconds(-5)));
        var notYetValid = await GetAsync(server, "/api/me", MintInProcess("future", TimeSpan.FromMinutes(10), now.AddSeconds(30)));

        Assert.Equal(HttpStatusCode.Unauthorized, expired.Status);
        Assert.Equal(HttpStatusCode.Unauthorized, notYetValid.Status);
        Assert.Equal(HttpStatusCode.OK, (await GetAsync(server, "/api/me", MintInProcess("now", TimeSpan.FromMinutes(10), now))).Status);
    }

    [Fact]
    public async Task Tokens_with_another_key_issuer_audience_or_no_signature_are_refused()
    {
        await using var server = await StartServerAsync();
        Assert.False(server.HasExited, server.Output);
        var now = DateTimeOffset.UtcNow;
        var key = Convert.FromBase64String((await File.ReadAllTextAsync(KeyFile)).Trim());
        string Crafted(string issuer, string audience, SigningCredentials? credentials) =>
            new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
            {
                Subject = new ClaimsIdentity([new Claim("sub", "mallory"), new Claim("role", "admin")]),
                Issuer = issuer,
                Audience = audience,
                Expires = now.UtcDateTime.AddHours(1),
                SigningCredentials = credentials,
            });
        var right = new SigningCredentials(new SymmetricSecurityKey(key), SecurityAlgorithms.HmacSha256);

        string[] refused =
        [
            MintInProcess("mallory", TimeSpan.FromHours(1), now, new AuthOptions { SigningKey = "another-key-another-key-another-key-0123456789" }),
            MintInProcess("mallory", TimeSpan.FromHours(1), now, new AuthOptions { Issuer = "someone-else" }),
            MintInProcess("mallory", TimeSpan.FromHours(1), now, new AuthOptions { Audience = "another-service" }),
            Crafted("gateway", "gateway", credentials: null),
            "not-a-jwt",
        ];

        foreach (var token in refused)
        {
            Assert.Equal(HttpStatusCode.Unauthorized, (await GetAsync(server, "/api/me", token)).Status);
        }

        Assert.Equal(HttpStatusCode.OK, (await GetAsync(server, "/api/me", Crafted("gateway", "gateway", right))).Status);
    }

    [Fact]
    public async Task A_valid_token_without_a_gateway_role_is_403()
    {
        await using var server = await StartServerAsync();
        Assert.False(server.HasExited, server.Output);
        var key = Convert.FromBase64String((await File.ReadAllTextAsync(KeyFile)).Trim());
        var token = new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Subject = new ClaimsIdentity([new Claim("sub", "guest"), new Claim("role", "guest")]),
            Issuer = "gateway",
            Audience = "gateway",
            Expires = DateTime.UtcNow.AddHours(1),
            SigningCredentials = new SigningCredentials(new SymmetricSecurityKey(key), SecurityAlgorithms.HmacSha256),
        });

        Assert.Equal(HttpStatusCode.Forbidden, (await GetAsync(server, "/api/me", token)).Status);
    }

    [Fact]
    public async Task Only_hub_paths_take_the_token_from_the_query_string()
    {
        await using var server = await StartServerAsync();
        Assert.False(server.HasExited, server.Output);
        var token = await MintAsync("agent-7", "agent");

        // No hub is mapped at /hubs/none: authenticated, the request gets as far as routing (404); without a token, 401.
        Assert.Equal(HttpStatusCode.NotFound, (await GetAsync(server, $"/hubs/none?access_token={token}")).Status);
        Assert.Equal(HttpStatusCode.Unauthorized, (await GetAsync(server, "/hubs/none")).Status);
        Assert.Equal(HttpStatusCode.Unauthorized, (await GetAsync(server, $"/api/me?access_token={token}")).Status);
    }

    [Fact]
    public async Task Allow_anonymous_makes_a_request_without_a_token_the_anonymous_user_with_dashboard_and_agent_but_not_admin()
    {
        await using var server = await StartServerAsync(("Auth__AllowAnonymous", "true"));
        Assert.False(server.HasExited, server.Output);

        var anonymous = await MeAsync(server, token: null);
        var alice = await MeAsync(server, await MintAsync("alice", "dashboard"));
        var badToken = await GetAsync(server, "/api/me", "not-a-jwt");

        Assert.Equal("anonymous", anonymous.GetProperty("userId").GetString());
        Assert.Equal(["dashboard", "agent"], Roles(anonymous));
        Assert.Equal(JsonValueKind.Null, anonymous.GetProperty("expiresAt").ValueKind);
        Assert.Equal("alice", alice.GetProperty("userId").GetString());
        Assert.Equal(HttpStatusCode.Unauthorized, badToken.Status);
        Assert.Matches(@"warn: Gateway\.Server\.Auth\.\w+\[2001\]", server.Output);
        Assert.Contains("with roles dashboard, agent (Auth:AnonymousRoles; admin, which reveals secrets, only when listed there)", server.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Anonymous_roles_can_be_narrowed()
    {
        await using var server = await StartServerAsync(("Auth__AllowAnonymous", "true"), ("Auth__AnonymousRoles__0", "dashboard"));
        Assert.False(server.HasExited, server.Output);

        Assert.Equal(["dashboard"], Roles(await MeAsync(server, token: null)));
    }

    [Fact]
    public async Task A_configured_signing_key_is_shared_by_server_and_cli_without_a_key_file()
    {
        const string key = "a-configured-signing-key-of-more-than-32-bytes-0123456789";
        await using var server = await StartServerAsync(("Auth__SigningKey", key));
        Assert.False(server.HasExited, server.Output);
        var result = await GatewayExecutable.RunAsync(
            _folder.Directory, new Dictionary<string, string?> { ["Auth__SigningKey"] = key }, "token", "create", "--user", "dora", "--role", "admin");

        Assert.Equal("dora", (await MeAsync(server, result.Output.Trim())).GetProperty("userId").GetString());
        Assert.Equal(HttpStatusCode.Unauthorized, (await GetAsync(server, "/api/me", await MintAsync("eve", "admin"))).Status);
        Assert.Contains("[2004]", server.Output, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Auth__SigningKey", "shorter-than-32-bytes", "Auth:SigningKey")]
    [InlineData("Auth__ClockSkewSeconds", "-5", "Auth:ClockSkewSeconds")]
    [InlineData("Auth__AnonymousRoles__0", "root", "Auth:AnonymousRoles")]
    [InlineData("Auth__Authority", "login.example.com", "Auth:Authority")]
    [InlineData("Auth__Audience", " ", "Auth:Audience")]
    public async Task Refuses_to_start_on_a_bad_auth_setting_and_names_it(string variable, string value, string expected)
    {
        await using var server = await StartServerAsync((variable, value));
        var exitCode = await server.WaitForExitAsync(ExitTimeout);

        Assert.NotEqual(0, exitCode);
        Assert.Contains(expected, server.Output, StringComparison.Ordinal);
    }

    private sealed class FixedTimeProvider(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }
}
