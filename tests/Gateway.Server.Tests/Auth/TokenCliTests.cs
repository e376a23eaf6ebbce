using System.Text;
using Gateway.Testing;

namespace Gateway.Server.Tests.Auth;

/// <summary><c>token create</c> as a user types it, against the built executable in a fresh working directory.</summary>
public sealed class TokenCliTests : IDisposable
{
    private const string ConfiguredKey = "a-configured-signing-key-of-more-than-32-bytes-0123456789";
    private readonly TemporarySqliteFile _folder = new();

    public void Dispose() => _folder.Dispose();

    private string KeyFile => Path.Combine(_folder.Directory, "data", "jwt-signing.key");

    private Task<CommandResult> Gateway(params string[] args) => GatewayExecutable.RunAsync(_folder.Directory, environment: null, args);

    private Task<CommandResult> GatewayWith(string key, string value, params string[] args) =>
        GatewayExecutable.RunAsync(_folder.Directory, new Dictionary<string, string?> { [key] = value }, args);

    private static string SingleToken(CommandResult result)
    {
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal(string.Empty, result.Error);
        var token = result.Output.TrimEnd('\n');
        Assert.DoesNotContain('\n', token);
        Assert.Matches("^[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+$", token);
        return token;
    }

    [Fact]
    public async Task Create_prints_only_a_jwt_with_the_user_the_roles_and_the_expiry()
    {
        var token = SingleToken(await Gateway("token", "create", "--user", "alice", "--role", "admin", "--role", "agent", "--ttl", "2h"));

        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var header = Jwt.Header(token);
        var payload = Jwt.Payload(token);
        Assert.Equal("HS256", header.GetProperty("alg").GetString());
        Assert.Equal("alice", payload.GetProperty("sub").GetString());
        Assert.Equal(["admin", "agent"], Jwt.Roles(payload));
        Assert.Equal("gateway", payload.GetProperty("iss").GetString());
        Assert.Equal("gateway", payload.GetProperty("aud").GetString());
        Assert.InRange(payload.GetProperty("exp").GetInt64(), now + 7200 - 60, now + 7200 + 5);
        Assert.Equal(7200, payload.GetProperty("exp").GetInt64() - payload.GetProperty("iat").GetInt64());
        Assert.Equal(payload.GetProperty("iat").GetInt64(), payload.GetProperty("nbf").GetInt64());
        Assert.False(string.IsNullOrEmpty(payload.GetProperty("jti").GetString()));
    }

    [Fact]
    public async Task One_role_and_the_default_lifetime_of_twelve_hours()
    {
        var payload = Jwt.Payload(SingleToken(await Gateway("token", "create", "--user", "dash-1", "--role", "dashboard")));

        Assert.Equal(["dashboard"], Jwt.Roles(payload));
        Assert.Equal(12 * 3600, payload.GetProperty("exp").GetInt64() - payload.GetProperty("iat").GetInt64());
    }

    [Theory]
    [InlineData("30m", 1800)]
    [InlineData("12h", 43200)]
    [InlineData("7d", 604800)]
    [InlineData("3600s", 3600)]
    [InlineData("01:00:00", 3600)]
    [InlineData("365d", 31536000)]
    public async Task Ttl_forms(string ttl, long seconds)
    {
        var payload = Jwt.Payload(SingleToken(await Gateway("token", "create", "--user", "u", "--role", "agent", "--ttl", ttl)));

        Assert.Equal(seconds, payload.GetProperty("exp").GetInt64() - payload.GetProperty("iat").GetInt64());
    }

    [Theory]
    [InlineData("token", "create", "--user", "u", "--role", "root")]
    [InlineData("token", "create", "--user", "u", "--role", "Admin")]
    [InlineData("token", "create", "--user", "u", "--role", "admin", "--ttl", "soon")]
    [InlineData("token", "create", "--user", "u", "--role", "admin", "--ttl", "30")]
    [InlineData("token", "create", "--user", "u", "--role", "admin", "--ttl", "0s")]
    [InlineData("token", "create", "--user", "u", "--role", "admin", "--ttl", "-1h")]
    [InlineData("token", "create", "--user", "u", "--role", "admin", "--ttl", "366d")]
    [InlineData("token", "create", "--user", "u", "--role", "admin", "--ttl", "99999999999999999999d")]
    [InlineData("token", "create", "--role", "admin")]
    [InlineData("token", "create", "--user", "", "--role", "admin")]
    [InlineData("token", "create", "--user", "  ", "--role", "admin")]
    [InlineData("token", "create", "--user", "u")]
    [InlineData("token")]
    public async Task Bad_usage_exits_with_2_and_a_one_line_reason_and_mints_nothing(params string[] args)
    {
        var result = await Gateway(args);

        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.Equal(string.Empty, result.Output);
        Assert.Single(result.Error.Trim().Split('\n'));
        Assert.StartsWith("error:", result.Error, StringComparison.Ordinal);
        Assert.False(File.Exists(KeyFile));
    }

    [Theory]
    [InlineData("--help")]
    [InlineData("token", "--help")]
    [InlineData("token", "create", "--help")]
    public async Task Help(params string[] args)
    {
        var result = await Gateway(args);

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("Usage:", result.Output, StringComparison.Ordinal);
        Assert.Contains("token", result.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_key_file_is_created_once_with_mode_0600_and_reused()
    {
        var first = SingleToken(await Gateway("token", "create", "--user", "a", "--role", "admin"));
        var key = await File.ReadAllTextAsync(KeyFile);
        var second = SingleToken(await Gateway("token", "create", "--user", "b", "--role", "agent"));

        Assert.Equal(key, await File.ReadAllTextAsync(KeyFile));
        var bytes = Convert.FromBase64String(key.Trim());
        Assert.Equal(64, bytes.Length);
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(KeyFile));
        }

        Assert.True(await Jwt.IsValidAsync(first, bytes));
        Assert.True(await Jwt.IsValidAsync(second, bytes));
        Assert.Equal(["jwt-signing.key"], Directory.GetFiles(Path.GetDirectoryName(KeyFile)!).Select(Path.GetFileName));
    }

    [Fact]
    public async Task Commands_racing_to_create_the_key_file_agree_on_one_key()
    {
        var results = await Task.WhenAll(Enumerable.Range(0, 4).Select(i => Gateway("token", "create", "--user", $"u{i}", "--role", "agent")));

        var key = Convert.FromBase64String((await File.ReadAllTextAsync(KeyFile)).Trim());
        foreach (var result in results)
        {
            Assert.True(await Jwt.IsValidAsync(SingleToken(result), key), result.ToString());
        }

        Assert.Single(Directory.GetFiles(Path.GetDirectoryName(KeyFile)!));
    }

    [Fact]
    public async Task A_configured_signing_key_signs_and_no_key_file_is_written()
    {
        var token = SingleToken(await GatewayWith("Auth__SigningKey", ConfiguredKey, "token", "create", "--user", "u", "--role", "admin"));

        Assert.True(await Jwt.IsValidAsync(token, Encoding.UTF8.GetBytes(ConfiguredKey)));
        Assert.False(File.Exists(KeyFile));
    }

    [Fact]
    public async Task A_configured_signing_key_shorter_than_32_bytes_is_refused()
    {
        var result = await GatewayWith("Auth__SigningKey", "too-short", "token", "create", "--user", "u", "--role", "admin");

        Assert.Equal(1, result.ExitCode);
        Assert.Equal(string.Empty, result.Output);
        Assert.Single(result.Error.Trim().Split('\n'));
        Assert.Contains("Auth:SigningKey", result.Error, StringComparison.Ordinal);
        Assert.Contains("32 bytes", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_external_authority_is_refused_with_exit_1()
    {
        var result = await GatewayWith("Auth__Authority", "https://login.example.com/realms/gateway", "token", "create", "--user", "u", "--role", "admin");

        Assert.Equal(1, result.ExitCode);
        Assert.Equal(string.Empty, result.Output);
        Assert.Single(result.Error.Trim().Split('\n'));
        Assert.Contains("Auth:Authority", result.Error, StringComparison.Ordinal);
        Assert.False(File.Exists(KeyFile));
    }

    [Fact]
    public async Task A_key_file_that_holds_no_key_is_refused_and_kept()
    {
        Directory.CreateDirectory(Path.GetDirectoryName(KeyFile)!);
        await File.WriteAllTextAsync(KeyFile, "not a key\n");
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(KeyFile, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }

        var result = await Gateway("token", "create", "--user", "u", "--role", "admin");

        Assert.Equal(1, result.ExitCode);
        Assert.Contains(KeyFile, result.Error, StringComparison.Ordinal);
        Assert.Contains("delete it", result.Error, StringComparison.Ordinal);
        Assert.Equal("not a key\n", await File.ReadAllTextAsync(KeyFile));
    }

    [Fact]
    public async Task A_key_file_others_may_read_is_refused_with_the_chmod_to_run()
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        SingleToken(await Gateway("token", "create", "--user", "a", "--role", "admin"));
        File.SetUnixFileMode(KeyFile, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);

        var result = await Gateway("token", "create", "--user", "b", "--role", "admin");

        Assert.Equal(1, result.ExitCode);
        Assert.Equal(string.Empty, result.Output);
        Assert.Single(result.Error.Trim().Split('\n'));
        Assert.Contains($"`chmod 600 {KeyFile}`", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_data_directory_setting_moves_the_key_file()
    {
        SingleToken(await GatewayWith("Database__DataDirectory", "state", "token", "create", "--user", "u", "--role", "admin"));

        Assert.True(File.Exists(Path.Combine(_folder.Directory, "state", "jwt-signing.key")));
        Assert.False(File.Exists(KeyFile));
    }
}
