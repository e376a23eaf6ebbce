using System.Diagnostics;
using System.Runtime.Versioning;
using System.Security.Cryptography;
using Gateway.Server.Auth;
using Gateway.Testing;
using Microsoft.Data.Sqlite;

namespace Gateway.Server.Tests.Startup;

/// <summary>
/// The data folder and its files at rest, with the server as a real process in a fresh working directory: created
/// owner-only, an open database narrowed, a signing key file others may use or another user owns refused. Unix only.
/// </summary>
public sealed class FilePermissionTests : IDisposable
{
    private const UnixFileMode Private = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    private const UnixFileMode PrivateFolder = Private | UnixFileMode.UserExecute;
    private static readonly TimeSpan ExitTimeout = TimeSpan.FromSeconds(30);
    private readonly TemporarySqliteFile _folder = new();

    public void Dispose() => _folder.Dispose();

    private string DataFolder => Path.Combine(_folder.Directory, "data");

    private string Database => Path.Combine(DataFolder, "gateway.db");

    private string KeyFile => Path.Combine(DataFolder, SigningKeyStore.KeyFileName);

    [UnsupportedOSPlatform("windows")]
    private void WriteKeyFile(UnixFileMode mode)
    {
        Directory.CreateDirectory(DataFolder, PrivateFolder);
        File.WriteAllText(KeyFile, Convert.ToBase64String(RandomNumberGenerator.GetBytes(64)) + "\n");
        File.SetUnixFileMode(KeyFile, mode);
    }

    [Fact]
    public async Task A_fresh_start_creates_the_data_folder_0700_and_the_database_its_wal_and_shm_and_the_key_file_0600()
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        await using var server = await GatewayServerProcess.StartAsync(_folder.Directory);

        Assert.False(server.HasExited, server.Output);
        Assert.Equal(PrivateFolder, File.GetUnixFileMode(DataFolder));
        // While the server runs its connections are open, so SQLite's -wal and -shm files exist.
        foreach (var file in (string[])[Database, Database + "-wal", Database + "-shm", KeyFile])
        {
            Assert.True(File.Exists(file), file);
            Assert.True(Private == File.GetUnixFileMode(file), $"{file}: {File.GetUnixFileMode(file)}");
        }

        Assert.DoesNotContain("warn:", server.Output, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(Private | UnixFileMode.GroupRead | UnixFileMode.OtherRead, "0644")]
    [InlineData(Private | UnixFileMode.GroupRead | UnixFileMode.GroupWrite, "0660")]
    [InlineData(Private | UnixFileMode.OtherRead | UnixFileMode.OtherWrite, "0606")]
    public async Task Refuses_to_start_with_a_signing_key_file_others_may_read_or_write_and_prints_the_chmod(UnixFileMode mode, string octal)
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        WriteKeyFile(mode);

        var output = await RefusedStartAsync();

        Assert.Contains($"{KeyFile} is mode {octal}", output, StringComparison.Ordinal);
        Assert.Contains($"`chmod 600 {KeyFile}`", output, StringComparison.Ordinal);
        Assert.DoesNotContain("chown", output, StringComparison.Ordinal);
        Assert.Equal(mode, File.GetUnixFileMode(KeyFile));
    }

    [Fact]
    public async Task Refuses_to_start_with_a_signing_key_file_another_user_owns_and_prints_the_chown()
    {
        // Giving a file away takes root (the tests run as root in CI).
        if (!OperatingSystem.IsLinux() || UnixFileOwner.EffectiveUserId != 0)
        {
            return;
        }

        WriteKeyFile(Private);
        await ChownAsync("65534", KeyFile);

        var output = await RefusedStartAsync();

        Assert.Contains($"{KeyFile} is owned by uid 65534", output, StringComparison.Ordinal);
        Assert.Contains($"`chown {Environment.UserName} {KeyFile}`", output, StringComparison.Ordinal);
        Assert.DoesNotContain("chmod", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_existing_database_others_may_read_is_narrowed_to_0600_and_an_open_data_folder_is_warned_of()
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        var open = Private | UnixFileMode.GroupRead | UnixFileMode.OtherRead;
        Directory.CreateDirectory(DataFolder);
        File.SetUnixFileMode(DataFolder, PrivateFolder | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
        using (var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = Database, Pooling = false }.ConnectionString))
        {
            connection.Open();
        }

        File.SetUnixFileMode(Database, open);

        await using var server = await GatewayServerProcess.StartAsync(_folder.Directory);

        Assert.False(server.HasExited, server.Output);
        Assert.Equal(Private, File.GetUnixFileMode(Database));
        Assert.Equal(Private, File.GetUnixFileMode(Database + "-wal"));
        Assert.Contains($"{Database} was mode 0644", server.Output, StringComparison.Ordinal);
        // A folder that exists is not changed, only warned of.
        Assert.Contains($"`chmod 700 {DataFolder}`", server.Output, StringComparison.Ordinal);
        Assert.Equal("0755", Convert.ToString((int)File.GetUnixFileMode(DataFolder), 8).PadLeft(4, '0'));
    }

    [Fact]
    public async Task Migrate_run_creates_a_missing_folder_0700_and_the_database_0600()
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        var folder = Path.Combine(_folder.Directory, "orchestrator");
        var database = Path.Combine(folder, "orchestrator.db");

        var result = await GatewayExecutable.RunAsync(
            _folder.Directory, new Dictionary<string, string?> { ["DATABASE_URL"] = $"sqlite:{database}" }, "migrate", "run");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal(PrivateFolder, File.GetUnixFileMode(folder));
        Assert.Equal(Private, File.GetUnixFileMode(database));
    }

    /// <summary>Starts the server in the working directory, expects it to refuse (exit 1), and returns what it printed.</summary>
    private async Task<string> RefusedStartAsync()
    {
        await using var server = await GatewayServerProcess.StartAsync(_folder.Directory);
        Assert.Equal(1, await server.WaitForExitAsync(ExitTimeout));
        return server.Output;
    }

    private static async Task ChownAsync(string owner, string path)
    {
        using var chown = Process.Start("chown", [owner, path]);
        await chown.WaitForExitAsync();
        Assert.Equal(0, chown.ExitCode);
    }
}
