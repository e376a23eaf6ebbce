using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Gateway.Contracts;
using Gateway.Server.Tests.Orchestration;
using Gateway.Testing;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;

namespace Gateway.Server.Tests.Events;

/// <summary>
/// Another process holding the database's write lock past the busy timeout: a change is refused with 503 and
/// Retry-After (hub: database_busy) and nothing of it is written, connects are refused at once with database_busy;
/// once the lock is gone the change writer (on a fresh connection) and the session writer go on.
/// </summary>
public sealed class DatabaseBusyTests : IDisposable
{
    private readonly GatewayTestServer _server = new(new Dictionary<string, string?> { ["Database:BusyTimeoutSeconds"] = "1" });

    public void Dispose() => _server.Dispose();

    [Fact]
    public async Task A_change_blocked_past_the_busy_timeout_gets_503_writes_nothing_and_the_writer_recovers()
    {
        var agent = _server.As("agent-1", GatewayRoles.Agent);
        await TasksApiTests.CreateAsync(agent, "before the lock");
        var eventsBefore = _server.Database.QueryLong("SELECT COUNT(*) FROM gateway_events");
        // Connected before the lock: opening a session writes its row.
        await using var hub = _server.CreateClient(GatewayTestServer.Token("agent-1", GatewayRoles.Agent));
        await hub.StartAsync();

        using (_server.Database.HoldWriteLock())
        {
            using var blocked = await agent.PostAsJsonAsync(
                new Uri("/api/tasks", UriKind.Relative), new { title = "while locked", taskType = "indexing" });

            Assert.Equal(HttpStatusCode.ServiceUnavailable, blocked.StatusCode);
            Assert.Equal("1", blocked.Headers.RetryAfter?.ToString());
            using var problem = JsonDocument.Parse(await blocked.Content.ReadAsStringAsync());
            Assert.Equal("Database busy", problem.RootElement.GetProperty("title").GetString());

            var refused = await Assert.ThrowsAsync<HubException>(() => hub.Connection.InvokeAsync<TaskInfo>(
                nameof(ITaskHub.CreateTask), new CreateTaskCommand("over the hub while locked", "indexing")));
            Assert.Equal(HubErrorCodes.DatabaseBusy, HubErrorCodes.CodeOf(refused.Message));
        }

        var after = await TasksApiTests.CreateAsync(agent, "after the lock");

        Assert.Equal("after the lock", after.GetProperty("title").GetString());
        Assert.Equal(0, _server.Database.QueryLong("SELECT COUNT(*) FROM tasks WHERE title LIKE '%while locked'"));
        Assert.Equal(2, _server.Database.QueryLong("SELECT COUNT(*) FROM tasks"));
        Assert.Equal(eventsBefore + 1, _server.Database.QueryLong("SELECT COUNT(*) FROM gateway_events"));
    }

    [Fact]
    public async Task Connects_while_the_database_is_locked_are_refused_at_once_with_database_busy_and_connect_after()
    {
        var token = GatewayTestServer.Token("agent-1", GatewayRoles.Agent);
        var clients = Enumerable.Range(0, 16).Select(i => _server.CreateClient(token, clientId: $"locked-{i}")).ToList();
        try
        {
            TimeSpan refusedWithin;
            using (_server.Database.HoldWriteLock())
            {
                var clock = System.Diagnostics.Stopwatch.StartNew();
                await Task.WhenAll(clients.Select(c => c.Connection.StartAsync()));
                var errors = await Task.WhenAll(clients.Select(c => c.Closed));
                refusedWithin = clock.Elapsed;
                Assert.All(errors, error => Assert.Equal(HubErrorCodes.DatabaseBusy, HubErrorCodes.CodeOf(error?.Message)));
            }

            // One failed write for the batch of session rows, not one busy timeout (1 s here) per connection after it.
            Assert.True(refusedWithin < TimeSpan.FromSeconds(8), $"16 connects refused after {refusedWithin}");
            Assert.Equal(0, _server.Database.QueryLong("SELECT COUNT(*) FROM sessions WHERE client_id LIKE 'locked-%'"));

            await using var after = _server.CreateClient(token, clientId: "after-the-lock");
            await after.StartAsync();
            Assert.Equal(1, _server.Database.QueryLong("SELECT COUNT(*) FROM sessions WHERE client_id = 'after-the-lock' AND is_active = 1"));
        }
        finally
        {
            foreach (var client in clients)
            {
                await client.DisposeAsync();
            }
        }
    }
}
