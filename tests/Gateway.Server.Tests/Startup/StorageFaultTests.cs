using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Gateway.Contracts;
using Gateway.Testing;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;

namespace Gateway.Server.Tests.Startup;

/// <summary>
/// A real full disk (a small tmpfs filled to the last byte), a read-only file system and a damaged file: each answered
/// with a stable code, readiness says so, nothing acknowledged is lost, and service comes back without a restart.
/// </summary>
public sealed class StorageFaultTests : IDisposable
{
    private readonly TemporarySqliteFile _database = new("gateway.db");

    public void Dispose() => _database.Dispose();

    [Fact]
    public async Task A_full_disk_answers_503_storage_full_degrades_readiness_and_recovers_when_space_returns()
    {
        using var mount = TmpfsMount.On(_database.Directory, megabytes: 24);
        using var server = new GatewayTestServer(database: _database);
        var agent = server.As("agent-1", GatewayRoles.Agent);
        await using var hub = server.CreateClient(GatewayTestServer.Token("agent-1", GatewayRoles.Agent), messagePack: true);
        await hub.StartAsync();
        var acknowledged = new List<string> { await CreateAsync(agent, "before") };
        Assert.Equal(HttpStatusCode.OK, (await ReadyAsync(server)).Status);

        var filler = mount.Fill();
        HttpResponseMessage? refused = null;
        for (var attempt = 0; attempt < 40 && refused is null; attempt++)
        {
            var response = await agent.PostAsJsonAsync(new Uri("/api/tasks", UriKind.Relative), Big($"full {attempt}"));
            if (response.StatusCode == HttpStatusCode.Created)
            {
                acknowledged.Add((await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!);
                response.Dispose();
            }
            else
            {
                refused = response;
            }
        }

        Assert.NotNull(refused);
        using (refused)
        {
            var problem = await refused.Content.ReadFromJsonAsync<JsonElement>();
            Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
            Assert.Equal("storage_full", problem.GetProperty("code").GetString());
            Assert.Equal("5", refused.Headers.GetValues("Retry-After").Single());
        }

        HubException? overHub = null;
        for (var attempt = 0; attempt < 40 && overHub is null; attempt++)
        {
            try
            {
                var config = JsonSerializer.Serialize(new Blob(new string('y', 50_000)));
                acknowledged.Add((await hub.Connection.InvokeAsync<TaskInfo>(nameof(ITaskHub.CreateTask), new CreateTaskCommand($"hub {attempt}", "build", Config: config))).Id);
            }
            catch (HubException error)
            {
                overHub = error;
            }
        }

        Assert.NotNull(overHub);
        Assert.Contains("database_full:", overHub.Message, StringComparison.Ordinal);

        var (degraded, report) = await ReadyAsync(server);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, degraded);
        Assert.Contains("storage_full", report, StringComparison.Ordinal);
        using (var read = await agent.GetAsync(new Uri("/api/tasks", UriKind.Relative)))
        {
            Assert.Equal(HttpStatusCode.OK, read.StatusCode);
        }

        File.Delete(filler);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while ((await ReadyAsync(server)).Status != HttpStatusCode.OK)
        {
            Assert.True(DateTime.UtcNow < deadline, "readiness did not recover after the space came back");
            await Task.Delay(200);
        }

        acknowledged.Add(await CreateAsync(agent, "after"));
        await hub.Connection.InvokeAsync<TaskInfo>(nameof(ITaskHub.CreateTask), new CreateTaskCommand("over the hub again", "build"));

        foreach (var id in acknowledged)
        {
            Assert.Equal(1, _database.QueryLong($"SELECT COUNT(*) FROM tasks WHERE id = '{id}'"));
            Assert.Equal(1, _database.QueryLong($"SELECT COUNT(*) FROM gateway_events WHERE task_id = '{id}' AND event_type = 'task.created'"));
        }

        Assert.Equal(_database.QueryLong("SELECT COUNT(*) FROM tasks"), _database.QueryLong("SELECT COUNT(*) FROM gateway_events WHERE event_type = 'task.created'"));
        Assert.Equal("ok", _database.QueryString("PRAGMA integrity_check"));
    }

    [Fact]
    public async Task A_read_only_file_system_at_start_is_refused_saying_what_to_check()
    {
        using var mount = TmpfsMount.On(_database.Directory, megabytes: 16);
        using (await _database.OpenMigratedAsync())
        {
        }

        mount.Remount(readOnly: true);
        // The key from configuration: the key file would be the first write refused, and this test is about the database.
        await using var server = await GatewayServerProcess.StartAsync(
            _database.Directory,
            new Dictionary<string, string?> { ["DATABASE_URL"] = _database.DatabaseUrl, ["Auth__SigningKey"] = GatewayTestServer.SigningKey });
        var exitCode = await server.WaitForExitAsync(TimeSpan.FromSeconds(30));

        Assert.True(exitCode == 1, server.Output);
        Assert.Contains("cannot be used", server.Output, StringComparison.Ordinal);
        Assert.Contains("mounted read-only", server.Output, StringComparison.Ordinal);
        mount.Remount(readOnly: false);
    }

    [Fact]
    public async Task A_damaged_file_at_start_is_refused_saying_what_to_do()
    {
        var garbage = new byte[16 * 1024];
        new Random(14).NextBytes(garbage);
        await File.WriteAllBytesAsync(_database.Path, garbage);

        await using var server = await GatewayServerProcess.StartAsync(_database.Directory, new Dictionary<string, string?> { ["DATABASE_URL"] = _database.DatabaseUrl });
        var exitCode = await server.WaitForExitAsync(TimeSpan.FromSeconds(30));

        Assert.True(exitCode == 1, server.Output);
        Assert.Contains("damaged or not a SQLite database", server.Output, StringComparison.Ordinal);
        Assert.Contains(".broken", server.Output, StringComparison.Ordinal);
        Assert.Equal(garbage, await File.ReadAllBytesAsync(_database.Path));
    }

    /// <summary>A task whose config takes new pages: a full disk refuses it even while small writes still fit in the WAL.</summary>
    private static BigTask Big(string title) => new(title, "build", new Blob(new string('x', 200_000)));

    private sealed record Blob(string Text);

    private sealed record BigTask(string Title, string TaskType, Blob Config);

    private static async Task<string> CreateAsync(HttpClient client, string title)
    {
        using var response = await client.PostAsJsonAsync(new Uri("/api/tasks", UriKind.Relative), new { title, taskType = "build" });
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Created, $"{response.StatusCode}: {text}");
        return JsonDocument.Parse(text).RootElement.GetProperty("id").GetString()!;
    }

    private static async Task<(HttpStatusCode Status, string Report)> ReadyAsync(GatewayTestServer server)
    {
        using var client = server.CreateHttpClient();
        using var response = await client.GetAsync(new Uri("/health/ready", UriKind.Relative));
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }
}
