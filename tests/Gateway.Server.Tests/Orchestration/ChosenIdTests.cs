using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Gateway.Contracts;
using Gateway.Testing;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;

namespace Gateway.Server.Tests.Orchestration;

/// <summary>
/// Creates with an id of the caller's choosing: the create sent again (after an answer that never came, or
/// <c>commit_outcome_unknown</c>) is refused with 409 and changes nothing, so a retry is never applied twice.
/// </summary>
[Trait(TestProviders.Trait, TestProviders.Both)]
public sealed class ChosenIdTests : IDisposable
{
    private readonly GatewayTestServer _server = new(new Dictionary<string, string?> { ["RateLimits:WritesPerSecond"] = "0" });

    private HttpClient Agent => _server.As("agent-1", GatewayRoles.Agent);

    public void Dispose() => _server.Dispose();

    private async Task<(HttpStatusCode First, HttpStatusCode Again, JsonElement Created, JsonElement Refused)> TwiceAsync(string path, object body)
    {
        using var first = await Agent.PostAsJsonAsync(new Uri(path, UriKind.Relative), body);
        using var again = await Agent.PostAsJsonAsync(new Uri(path, UriKind.Relative), body);
        return (first.StatusCode, again.StatusCode, await first.Content.ReadFromJsonAsync<JsonElement>(), await again.Content.ReadFromJsonAsync<JsonElement>());
    }

    [Fact]
    public async Task A_task_created_again_with_its_id_is_refused_and_stored_once()
    {
        var id = Guid.CreateVersion7();

        var (first, again, created, refused) = await TwiceAsync("/api/tasks", new { id = id.ToString().ToUpperInvariant(), title = "chosen", taskType = "indexing" });

        Assert.Equal(HttpStatusCode.Created, first);
        Assert.Equal(id.ToString(), created.GetProperty("id").GetString());
        Assert.Equal(HttpStatusCode.Conflict, again);
        Assert.Equal(HubErrorCodes.Conflict, refused.GetProperty("code").GetString());
        Assert.Contains(id.ToString(), refused.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal(1, _server.Store.QueryLong("SELECT count(*) FROM tasks"));
        Assert.Equal(1, _server.Store.QueryLong($"SELECT count(*) FROM gateway_events WHERE task_id = '{id}'"));
    }

    [Fact]
    public async Task A_workflow_and_a_tool_execution_created_again_with_their_ids_are_refused_and_stored_once()
    {
        var workflowId = Guid.NewGuid().ToString();
        var workflow = await TwiceAsync("/api/workflows", new { id = workflowId, name = "chosen", definition = new { steps = 1 } });
        var taskId = (await TasksApiTests.CreateAsync(Agent)).GetProperty("id").GetString();
        var executionId = Guid.NewGuid().ToString();
        var execution = await TwiceAsync($"/api/tasks/{taskId}/tool-executions", new { id = executionId, toolName = "grep", arguments = new { pattern = "x" } });

        Assert.Equal((HttpStatusCode.Created, HttpStatusCode.Conflict), (workflow.First, workflow.Again));
        Assert.Equal(workflowId, workflow.Created.GetProperty("id").GetString());
        Assert.Equal((HttpStatusCode.Created, HttpStatusCode.Conflict), (execution.First, execution.Again));
        Assert.Equal(executionId, execution.Created.GetProperty("id").GetString());
        Assert.Equal(1, _server.Store.QueryLong("SELECT count(*) FROM workflows"));
        Assert.Equal(1, _server.Store.QueryLong("SELECT count(*) FROM gateway_workflow_owners"));
        Assert.Equal(1, _server.Store.QueryLong("SELECT count(*) FROM tool_executions"));
        Assert.Equal(1, _server.Store.QueryLong($"SELECT count(*) FROM gateway_events WHERE execution_id = '{executionId}'"));
    }

    [Theory]
    [InlineData("not-a-uuid")]
    [InlineData("0192f7a45b1e7c3d9e8f0a1b2c3d4e5f")]
    [InlineData("{0192f7a4-5b1e-7c3d-9e8f-0a1b2c3d4e5f}")]
    [InlineData("")]
    public async Task An_id_that_is_not_a_uuid_in_its_36_character_form_is_refused_naming_the_field(string id)
    {
        using var response = await Agent.PostAsJsonAsync(new Uri("/api/tasks", UriKind.Relative), new { id, title = "t", taskType = "indexing" });
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.True(problem.GetProperty("errors").TryGetProperty("$.id", out _));
        Assert.Equal(0, _server.Store.QueryLong("SELECT count(*) FROM tasks"));
    }

    [Fact]
    public async Task Over_the_hub_a_create_sent_again_with_its_id_is_a_conflict()
    {
        await using var hub = _server.CreateClient(GatewayTestServer.Token("agent-1", GatewayRoles.Agent));
        await hub.StartAsync();
        var command = new CreateTaskCommand("over the hub", "indexing", Id: Guid.NewGuid().ToString());

        var created = await hub.Connection.InvokeAsync<TaskInfo>(nameof(ITaskHub.CreateTask), command);
        var refused = await Assert.ThrowsAsync<HubException>(() => hub.Connection.InvokeAsync<TaskInfo>(nameof(ITaskHub.CreateTask), command));

        Assert.Equal(command.Id, created.Id);
        Assert.Equal(HubErrorCodes.Conflict, HubErrorCodes.CodeOf(refused.Message));
        Assert.Equal(1, _server.Store.QueryLong("SELECT count(*) FROM tasks"));
    }
}
