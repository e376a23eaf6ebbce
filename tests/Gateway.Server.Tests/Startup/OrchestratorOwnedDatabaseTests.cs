using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Gateway.Contracts;
using Gateway.Server.Tests.Orchestration;
using Gateway.Server.Tests.Sessions;
using Gateway.Testing;
using Microsoft.AspNetCore.Http.Connections;
using Microsoft.AspNetCore.SignalR.Client;

namespace Gateway.Server.Tests.Startup;

/// <summary>
/// Gateway on a database whose orchestrator applies its own migrations (<c>Migrations:Orchestrator=external</c>):
/// the default mode refuses it and names the setting; the external mode checks what it needs, applies only its own set,
/// keeps every write to the values the database's CHECKs allow, and leaves the orchestrator's bookkeeping and later
/// tables exactly as they were, so that the orchestrator's own migrator still accepts the database.
/// </summary>
public sealed class OrchestratorOwnedDatabaseTests
{
    private static readonly TimeSpan ExitTimeout = TimeSpan.FromSeconds(30);

    private static Dictionary<string, string?> Environment(TemporarySqliteFile database, string? mode) => new()
    {
        ["DATABASE_URL"] = database.DatabaseUrl,
        ["Migrations__Orchestrator"] = mode,
        ["Auth__SigningKey"] = GatewayTestServer.SigningKey,
    };

    [Fact]
    public async Task The_default_mode_refuses_another_migrators_bookkeeping_and_names_the_setting_changing_nothing()
    {
        using var owned = await OrchestratorOwnedDatabase.CreateAsync();
        var bookkeeping = owned.Bookkeeping();

        await using var server = await GatewayServerProcess.StartAsync(owned.Database.Directory, Environment(owned.Database, mode: null));
        var exitCode = await server.WaitForExitAsync(ExitTimeout);

        Assert.Equal(1, exitCode);
        Assert.Contains("has been modified", server.Output, StringComparison.Ordinal);
        Assert.Contains("Migrations:Orchestrator=external", server.Output, StringComparison.Ordinal);
        Assert.Equal(bookkeeping, owned.Bookkeeping());
        Assert.Equal(0, owned.Database.QueryLong("SELECT COUNT(*) FROM sqlite_master WHERE name LIKE 'gateway_%' OR name = '_gateway_migrations'"));
        await owned.AssertOrchestratorMigratorAcceptsAsync();
    }

    [Theory]
    [InlineData("tasks.workspace_path", null, "column tasks.workspace_path")]
    [InlineData(null, "priority INTEGER NOT NULL", "a default for tasks.priority")]
    public async Task The_external_mode_refuses_a_schema_without_what_gateway_needs_and_lists_it(string? omit, string? extra, string listed)
    {
        using var owned = await OrchestratorOwnedDatabase.CreateAsync(omitColumn: omit, extraColumn: extra);

        await using var server = await GatewayServerProcess.StartAsync(owned.Database.Directory, Environment(owned.Database, "external"));
        var exitCode = await server.WaitForExitAsync(ExitTimeout);

        Assert.Equal(1, exitCode);
        Assert.Contains("lacks 1 things Gateway needs", server.Output, StringComparison.Ordinal);
        Assert.Contains(listed, server.Output, StringComparison.Ordinal);
        Assert.Equal(0, owned.Database.QueryLong("SELECT COUNT(*) FROM sqlite_master WHERE name = '_gateway_migrations'"));
    }

    [Fact]
    public async Task An_unknown_mode_refuses_to_start_naming_the_two()
    {
        using var database = new TemporarySqliteFile();
        await using var server = await GatewayServerProcess.StartAsync(database.Directory, Environment(database, "sometimes"));

        Assert.Equal(1, await server.WaitForExitAsync(ExitTimeout));
        Assert.Contains("Migrations:Orchestrator must be apply or external, not 'sometimes'", server.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_whole_flow_runs_on_the_orchestrators_schema_and_leaves_its_bookkeeping_alone()
    {
        using var owned = await OrchestratorOwnedDatabase.CreateAsync();
        var bookkeeping = owned.Bookkeeping();
        var laterTables = owned.LaterTables();
        var settings = new Dictionary<string, string?> { ["Migrations:Orchestrator"] = "external", ["RateLimits:WritesPerSecond"] = "0" };
        var logged = new ConcurrentQueue<long>();

        using (var server = new GatewayTestServer(settings, owned.Database, "orchestrator-node"))
        {
            var agent = server.As("agent-1", GatewayRoles.Agent);
            var schema = await agent.GetFromJsonAsync<JsonElement>(new Uri("/api/schema", UriKind.Relative));
            Assert.Equal("external", schema.GetProperty("orchestratorMigrations").GetString());
            Assert.Equal(["pending", "running", "completed", "failed", "cancelled"], Strings(schema, "taskStatuses"));
            Assert.Equal(["draft", "active", "paused", "archived"], Strings(schema, "workflowStatuses"));
            Assert.Equal(["websocket", "http", "grpc"], Strings(schema, "connectionTypes"));
            using (var anonymous = server.CreateHttpClient())
            using (var ready = await anonymous.GetAsync(new Uri("/health/ready", UriKind.Relative)))
            {
                // Readiness checks the sets Gateway manages: its own, here.
                Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
            }

            // Every transport in both protocols is a session row with a connection type the schema has.
            var clients = new List<TestHubClient>();
            foreach (var transport in new[] { HttpTransportType.WebSockets, HttpTransportType.ServerSentEvents, HttpTransportType.LongPolling })
            {
                foreach (var messagePack in new[] { false, true })
                {
                    // SSE carries text only: SignalR refuses MessagePack over it.
                    if (transport == HttpTransportType.ServerSentEvents && messagePack)
                    {
                        continue;
                    }

                    var client = server.CreateClient(GatewayTestServer.Token("viewer", GatewayRoles.Dashboard), transport, messagePack, clientId: $"{transport}-{messagePack}");
                    await client.StartAsync();
                    clients.Add(client);
                }
            }

            Assert.Equal(
                ["LongPolling-False http LongPolling", "LongPolling-True http LongPolling", "ServerSentEvents-False http ServerSentEvents", "WebSockets-False websocket WebSockets", "WebSockets-True websocket WebSockets"],
                owned.Database.QueryStrings("SELECT client_id || ' ' || connection_type || ' ' || json_extract(metadata, '$.transport') FROM sessions WHERE is_active = 1 ORDER BY client_id"));
            var watcher = clients[0];
            watcher.Connection.On<GatewayEvent>(nameof(IGatewayClient.EventReceived), e => logged.Enqueue(e.Id));
            await watcher.Connection.InvokeAsync<SubscriptionAck>(nameof(IEventSubscriptionHub.Subscribe), new SubscriptionRequest(SubscriptionScopes.All));

            // A task run with a tool, a failure and a retry: asked for as queued, stored as pending.
            var taskId = (await TasksApiTests.CreateAsync(agent, "Build")).GetProperty("id").GetString()!;
            await ExpectAsync(TasksApiTests.ChangeStatusAsync(agent, taskId, new { status = "running" }), HttpStatusCode.OK);
            var execution = await JsonAsync(agent.PostAsJsonAsync(new Uri($"/api/tasks/{taskId}/tool-executions", UriKind.Relative), new { toolName = "shell", arguments = new { command = "make" } }), HttpStatusCode.Created);
            var executionId = execution.GetProperty("id").GetString()!;
            await ExpectAsync(agent.PostAsJsonAsync(new Uri($"/api/tool-executions/{executionId}/output", UriKind.Relative), new { output = "compiling\n" }), HttpStatusCode.Accepted);
            await ExpectAsync(agent.PostAsJsonAsync(new Uri($"/api/tool-executions/{executionId}/fail", UriKind.Relative), new { error = "exit 2", exitCode = 2 }), HttpStatusCode.OK);
            await ExpectAsync(TasksApiTests.ChangeStatusAsync(agent, taskId, new { status = "failed", error = "make failed" }), HttpStatusCode.OK);
            var retried = await JsonAsync(TasksApiTests.ChangeStatusAsync(agent, taskId, new { status = "queued" }), HttpStatusCode.OK);
            Assert.Equal("pending", retried.GetProperty("status").GetString());
            Assert.Equal(JsonValueKind.Null, retried.GetProperty("error").ValueKind);
            await ExpectAsync(TasksApiTests.ChangeStatusAsync(agent, taskId, new { status = "running" }), HttpStatusCode.OK);
            var paused = await JsonAsync(TasksApiTests.ChangeStatusAsync(agent, taskId, new { status = "paused" }), HttpStatusCode.BadRequest);
            Assert.Contains("tasks.status CHECK allows only pending, running, completed, failed, cancelled", paused.GetProperty("detail").GetString(), StringComparison.Ordinal);
            var second = await JsonAsync(agent.PostAsJsonAsync(new Uri($"/api/tasks/{taskId}/tool-executions", UriKind.Relative), new { toolName = "shell", arguments = new { command = "make" } }), HttpStatusCode.Created);
            await ExpectAsync(agent.PostAsJsonAsync(new Uri($"/api/tool-executions/{second.GetProperty("id").GetString()}/complete", UriKind.Relative), new { exitCode = 0 }), HttpStatusCode.OK);

            // A workflow whose tasks all complete stays active (the schema has no completed); its completion is an event.
            var workflowId = (await WorkflowsApiTests.CreateAsync(agent)).GetProperty("id").GetString()!;
            var other = (await TasksApiTests.CreateAsync(agent, "Test")).GetProperty("id").GetString()!;
            foreach (var member in new[] { taskId, other })
            {
                await ExpectAsync(agent.PostAsJsonAsync(new Uri($"/api/workflows/{workflowId}/tasks", UriKind.Relative), new { taskId = member }), HttpStatusCode.OK);
            }

            await ExpectAsync(agent.PostAsJsonAsync(new Uri($"/api/workflows/{workflowId}/status", UriKind.Relative), new { status = "active" }), HttpStatusCode.OK);
            await ExpectAsync(TasksApiTests.ChangeStatusAsync(agent, taskId, new { status = "completed" }), HttpStatusCode.OK);
            await ExpectAsync(TasksApiTests.ChangeStatusAsync(agent, other, new { status = "running" }), HttpStatusCode.OK);
            await ExpectAsync(TasksApiTests.ChangeStatusAsync(agent, other, new { status = "completed" }), HttpStatusCode.OK);
            Assert.Equal("active", owned.Database.QueryString($"SELECT status FROM workflows WHERE id = '{workflowId}'"));
            Assert.Equal(1, owned.Database.QueryLong($"SELECT COUNT(*) FROM gateway_events WHERE workflow_id = '{workflowId}' AND event_type = 'workflow.completed'"));
            var completed = await JsonAsync(agent.PostAsJsonAsync(new Uri($"/api/workflows/{workflowId}/status", UriKind.Relative), new { status = "completed" }), HttpStatusCode.BadRequest);
            Assert.Contains("workflows.status CHECK allows only draft, active, paused, archived", completed.GetProperty("detail").GetString(), StringComparison.Ordinal);
            await ExpectAsync(agent.PostAsJsonAsync(new Uri($"/api/workflows/{workflowId}/status", UriKind.Relative), new { status = "archived" }), HttpStatusCode.OK);

            // A failure is announced once, by the change that brought it about; the workflow stays active.
            var failing = (await WorkflowsApiTests.CreateAsync(agent, "Nightly")).GetProperty("id").GetString()!;
            var first = (await TasksApiTests.CreateAsync(agent, "Lint")).GetProperty("id").GetString()!;
            var then = (await TasksApiTests.CreateAsync(agent, "Package")).GetProperty("id").GetString()!;
            foreach (var member in new[] { first, then })
            {
                await ExpectAsync(agent.PostAsJsonAsync(new Uri($"/api/workflows/{failing}/tasks", UriKind.Relative), new { taskId = member }), HttpStatusCode.OK);
            }

            await ExpectAsync(agent.PostAsJsonAsync(new Uri($"/api/workflows/{failing}/status", UriKind.Relative), new { status = "active" }), HttpStatusCode.OK);
            await ExpectAsync(TasksApiTests.ChangeStatusAsync(agent, first, new { status = "running" }), HttpStatusCode.OK);
            await ExpectAsync(TasksApiTests.ChangeStatusAsync(agent, first, new { status = "failed", error = "lint errors" }), HttpStatusCode.OK);
            await ExpectAsync(TasksApiTests.ChangeStatusAsync(agent, then, new { status = "running" }), HttpStatusCode.OK);
            Assert.Equal("active", owned.Database.QueryString($"SELECT status FROM workflows WHERE id = '{failing}'"));
            Assert.Equal(1, owned.Database.QueryLong($"SELECT COUNT(*) FROM gateway_events WHERE workflow_id = '{failing}' AND event_type = 'workflow.failed'"));
            Assert.Equal(0, owned.Database.QueryLong($"SELECT COUNT(*) FROM gateway_events WHERE workflow_id = '{failing}' AND event_type = 'workflow.status' AND json_extract(payload, '$.status') = 'failed'"));

            var admin = server.As("root", GatewayRoles.Admin);
            await ExpectAsync(admin.PutAsJsonAsync(new Uri("/api/configurations/agent.limits", UriKind.Relative), new { value = "{\"max\":3}", valueType = "json" }), HttpStatusCode.Created);

            // A dashboard sees every event but the configuration's (admins only).
            var visible = owned.Database.QueryLongs("SELECT id FROM gateway_events WHERE event_type NOT LIKE 'config.%' ORDER BY id");
            await SessionRowTests.Eventually(() => logged.Count >= visible.Length, what: "the live events");
            Assert.Equal(visible, logged.ToArray());
            foreach (var client in clients)
            {
                await client.DisposeAsync();
            }
        }

        // Replay after a restart, from the start of the log.
        using (var restarted = new GatewayTestServer(settings, owned.Database, "orchestrator-node"))
        {
            var replayed = new ConcurrentQueue<long>();
            await using var reader = restarted.CreateClient(GatewayTestServer.Token("viewer", GatewayRoles.Dashboard));
            reader.Connection.On<GatewayEvent>(nameof(IGatewayClient.EventReceived), e => replayed.Enqueue(e.Id));
            await reader.StartAsync();
            var ack = await reader.Connection.InvokeAsync<SubscriptionAck>(nameof(IEventSubscriptionHub.Subscribe), new SubscriptionRequest(SubscriptionScopes.All, AfterEventId: 0));
            var logOfDashboard = owned.Database.QueryLongs("SELECT id FROM gateway_events WHERE event_type NOT LIKE 'config.%' ORDER BY id");
            Assert.False(ack.Reset);
            await SessionRowTests.Eventually(() => replayed.Count >= logOfDashboard.Length, what: "the replayed events");
            Assert.Equal(logOfDashboard, replayed.ToArray());
        }

        Assert.Equal(bookkeeping, owned.Bookkeeping());
        Assert.Equal(laterTables, owned.LaterTables());
        Assert.Equal(0, owned.Database.QueryLong("SELECT COUNT(*) FROM _sqlx_migrations WHERE version IN (20251125000000, 20261201000000)"));
        Assert.Equal(3, owned.Database.QueryLong("SELECT COUNT(*) FROM _gateway_migrations WHERE success = 1"));
        await owned.AssertOrchestratorMigratorAcceptsAsync();
    }

    private static string[] Strings(JsonElement element, string property) =>
        element.GetProperty(property).EnumerateArray().Select(e => e.GetString()!).ToArray();

    private static async Task ExpectAsync(Task<HttpResponseMessage> call, HttpStatusCode expected) => await JsonAsync(call, expected);

    private static async Task<JsonElement> JsonAsync(Task<HttpResponseMessage> call, HttpStatusCode expected)
    {
        using var response = await call;
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == expected, $"{response.RequestMessage?.Method} {response.RequestMessage?.RequestUri}: {response.StatusCode}: {text}");
        return text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone();
    }
}
