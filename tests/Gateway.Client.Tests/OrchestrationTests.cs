using System.Collections.Concurrent;
using Gateway.Client.Tests.Infrastructure;
using Gateway.Contracts;
using Gateway.Testing;

namespace Gateway.Client.Tests;

/// <summary>A connected agent runs a workflow through the typed client while a dashboard follows it.</summary>
public sealed class OrchestrationTests : IDisposable
{
    private readonly GatewayTestServer _server = new();

    public void Dispose() => _server.Dispose();

    [Theory]
    [InlineData(GatewayProtocol.Json)]
    [InlineData(GatewayProtocol.MessagePack)]
    public async Task An_agent_runs_a_workflow_over_the_hub_and_a_dashboard_sees_every_event(GatewayProtocol protocol)
    {
        await using var agent = _server.CreateGatewayClient(GatewayTestServer.Token("agent-1", GatewayRoles.Agent), protocol: protocol);
        await using var dashboard = _server.CreateGatewayClient(GatewayTestServer.Token("viewer", GatewayRoles.Dashboard), protocol: protocol);
        await agent.StartWithTimeoutAsync();
        await dashboard.StartWithTimeoutAsync();
        var timeout = TestClients.Timeout;

        var workflow = await agent.CreateWorkflow(new CreateWorkflowCommand("nightly", "{\"steps\": 1}")).WaitAsync(timeout);
        var seen = new ConcurrentQueue<GatewayEvent>();
        await dashboard.SubscribeAsync(new SubscriptionRequest(SubscriptionScopes.Workflow, workflow.Id, AfterEventId: 0), e =>
        {
            seen.Enqueue(e);
            return Task.CompletedTask;
        }).WaitAsync(timeout);

        var task = await agent.CreateTask(new CreateTaskCommand("build", "ci")).WaitAsync(timeout);
        await agent.AddWorkflowTask(workflow.Id, task.Id, null).WaitAsync(timeout);
        await agent.ChangeWorkflowStatus(workflow.Id, new ChangeWorkflowStatusCommand("active")).WaitAsync(timeout);
        await agent.ChangeTaskStatus(task.Id, new ChangeTaskStatusCommand("running")).WaitAsync(timeout);
        var execution = await agent.StartToolExecution(task.Id, new StartToolExecutionCommand("shell", "{\"cmd\": \"make\"}")).WaitAsync(timeout);
        await agent.AppendToolOutput(execution.Id, "ok\n", false).WaitAsync(timeout);
        var finished = await agent.CompleteToolExecution(execution.Id, 0).WaitAsync(timeout);
        await agent.ReportTaskProgress(task.Id, 100, "done").WaitAsync(timeout);
        await agent.ChangeTaskStatus(task.Id, new ChangeTaskStatusCommand("completed")).WaitAsync(timeout);
        var refused = await Assert.ThrowsAsync<GatewayHubException>(() => agent.ChangeTaskStatus(task.Id, new ChangeTaskStatusCommand("running")).WaitAsync(timeout));
        var final = await agent.GetWorkflow(workflow.Id).WaitAsync(timeout);

        Assert.Equal("completed", finished.Status);
        Assert.NotNull(finished.DurationMs);
        Assert.Equal("conflict", refused.Code);
        Assert.Equal("completed", final.Status);
        var deadline = DateTime.UtcNow + timeout;
        while (!seen.Any(e => e.Type == EventTypes.WorkflowCompleted))
        {
            Assert.True(DateTime.UtcNow < deadline, string.Join(", ", seen.Select(e => e.Type)));
            await Task.Delay(25);
        }

        var ids = seen.Select(e => e.Id).ToArray();
        Assert.Equal(ids.Order().Distinct(), ids);
        Assert.Equal(_server.Database.QueryLong($"SELECT COUNT(*) FROM gateway_events WHERE workflow_id = '{workflow.Id}'"), ids.Length);
    }
}
