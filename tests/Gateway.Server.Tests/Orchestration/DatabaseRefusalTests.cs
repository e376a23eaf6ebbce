using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Gateway.Contracts;
using Gateway.Testing;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Gateway.Server.Tests.Orchestration;

/// <summary>
/// A change the database itself refuses (a UNIQUE, FOREIGN KEY or CHECK-like rule of the orchestrator's schema that the
/// gateway's own checks know nothing of) is a conflict that names the kind of rule and an error id; SQLite's text, which
/// names tables, columns and triggers, goes to the log only.
/// </summary>
public sealed class DatabaseRefusalTests : IDisposable
{
    private readonly TemporarySqliteFile _database = new("gateway.db");
    private readonly CapturingLoggerProvider _logs = new();

    public void Dispose()
    {
        _logs.Dispose();
        _database.Dispose();
    }

    /// <summary>The orchestrator's own additions to the schema, written before the gateway starts.</summary>
    private async Task<GatewayTestServer> StartWithOrchestratorRulesAsync()
    {
        using (var connection = await _database.OpenFullyMigratedAsync())
        using (var command = connection.CreateCommand())
        {
            command.CommandText = """
                CREATE TABLE task_artifacts (task_id TEXT NOT NULL REFERENCES tasks(id), path TEXT NOT NULL);
                CREATE UNIQUE INDEX ux_tasks_workspace_path ON tasks(workspace_path);
                CREATE TRIGGER orchestrator_holds_locked_tasks BEFORE UPDATE OF status ON tasks
                WHEN OLD.title = 'locked' BEGIN SELECT RAISE(ABORT, 'orchestrator lock: task_locks row 7 holds it'); END;
                """;
            await command.ExecuteNonQueryAsync();
        }

        return new GatewayTestServer(database: _database, configureServices: services => services.AddSingleton<ILoggerProvider>(_logs));
    }

    private static async Task<string> CreateTaskAsync(HttpClient client, string title, string workspace)
    {
        using var response = await client.PostAsJsonAsync(new Uri("/api/tasks", UriKind.Relative), new { title, taskType = "indexing", workspacePath = workspace });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;
    }

    /// <summary>The answer is a coded conflict with an error id; the log has that id with SQLite's text.</summary>
    private void AssertRefusedWithoutTheDatabasesText(string answer, string kind, string databaseText)
    {
        foreach (var leak in (string[])["SQLite", "constraint failed", "task_artifacts", "workspace_path", "orchestrator lock", "task_locks"])
        {
            Assert.DoesNotContain(leak, answer, StringComparison.OrdinalIgnoreCase);
        }

        Assert.Contains(kind, answer, StringComparison.Ordinal);

        var errorId = System.Text.RegularExpressions.Regex.Match(answer, "error id ([0-9a-f]{12})").Groups[1].Value;
        Assert.NotEmpty(errorId);
        Assert.Contains(_logs.Lines, line => line.Contains(errorId, StringComparison.Ordinal) && line.Contains(databaseText, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Rest_conflicts_name_the_kind_of_rule_and_an_error_id_but_never_the_databases_text()
    {
        using var server = await StartWithOrchestratorRulesAsync();
        var admin = server.As("root", GatewayRoles.Admin);
        var referenced = await CreateTaskAsync(admin, "referenced", "/ws/referenced");
        var locked = await CreateTaskAsync(admin, "locked", "/ws/locked");
        using (var connection = _database.Open())
        using (var command = connection.CreateCommand())
        {
            command.CommandText = $"INSERT INTO task_artifacts (task_id, path) VALUES ('{referenced}', '/out/a.txt')";
            command.ExecuteNonQuery();
        }

        using var delete = await admin.DeleteAsync(new Uri($"/api/tasks/{referenced}", UriKind.Relative));
        using var duplicate = await admin.PostAsJsonAsync(new Uri("/api/tasks", UriKind.Relative), new { title = "again", taskType = "indexing", workspacePath = "/ws/referenced" });
        using var status = await TasksApiTests.ChangeStatusAsync(admin, locked, new { status = "running" });

        foreach (var (response, kind, databaseText) in ((HttpResponseMessage, string, string)[])[
            (delete, "another row still refers to it", "FOREIGN KEY constraint failed"),
            (duplicate, "a row with the same unique value exists", "UNIQUE constraint failed: tasks.workspace_path"),
            (status, "a trigger of the database refused it", "orchestrator lock: task_locks row 7 holds it")])
        {
            Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
            var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
            Assert.Equal(HubErrorCodes.Conflict, problem.GetProperty("code").GetString());
            AssertRefusedWithoutTheDatabasesText(await response.Content.ReadAsStringAsync(), kind, databaseText);
        }

        // Refused, so nothing changed.
        Assert.Equal(2, _database.QueryLong("SELECT COUNT(*) FROM tasks"));
        Assert.Equal("pending", _database.QueryString($"SELECT status FROM tasks WHERE id = '{locked}'"));
    }

    [Fact]
    public async Task A_hub_conflict_never_carries_the_databases_text()
    {
        using var server = await StartWithOrchestratorRulesAsync();
        var locked = await CreateTaskAsync(server.As("root", GatewayRoles.Admin), "locked", "/ws/locked");
        await using var agent = server.CreateClient(GatewayTestServer.Token("root", GatewayRoles.Admin));
        await agent.StartAsync();

        var error = await Assert.ThrowsAsync<HubException>(() => agent.Connection
            .InvokeAsync<TaskInfo>(nameof(ITaskHub.ChangeTaskStatus), locked, new ChangeTaskStatusCommand("running"))
            .WaitAsync(TestHubConnections.Timeout));

        Assert.Equal(HubErrorCodes.Conflict, HubErrorCodes.CodeOf(error.Message));
        AssertRefusedWithoutTheDatabasesText(error.Message, "a trigger of the database refused it", "orchestrator lock: task_locks row 7 holds it");
    }
}
