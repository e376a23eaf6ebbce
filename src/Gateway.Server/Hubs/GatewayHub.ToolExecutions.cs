using Gateway.Contracts;
using Gateway.Server.Orchestration;
using Gateway.Server.Orchestration.ToolExecutions;
using Microsoft.AspNetCore.Mvc;

namespace Gateway.Server.Hubs;

/// <summary>
/// Tool execution methods (<see cref="IToolExecutionHub"/>): the same service as the REST API, injected per
/// invocation (a [FromServices] parameter is not a wire argument).
/// </summary>
internal sealed partial class GatewayHub
{
    public async Task<ToolExecutionInfo> StartToolExecution(string taskId, StartToolExecutionCommand command, [FromServices] ToolExecutionService executions) =>
        ToolExecutionHubMapping.ToInfo(await executions.StartAsync(
            Caller.From(Context.User), taskId, ToolExecutionHubMapping.FromCommand(command), Context.ConnectionAborted));

    public async Task<ToolExecutionInfo> GetToolExecution(string executionId, [FromServices] ToolExecutionService executions) =>
        ToolExecutionHubMapping.ToInfo(await executions.GetAsync(executionId, Context.ConnectionAborted));

    public async Task<IReadOnlyList<ToolExecutionInfo>> ListToolExecutions(string taskId, [FromServices] ToolExecutionService executions) =>
        (await executions.ListByTaskAsync(taskId, Context.ConnectionAborted)).Select(ToolExecutionHubMapping.ToInfo).ToList();

    public Task<bool> AppendToolOutput(string executionId, string output, bool isStderr, [FromServices] ToolExecutionService executions) =>
        executions.AppendOutputAsync(Caller.From(Context.User), executionId, new AppendToolOutputRequest(output, isStderr), Context.ConnectionAborted);

    public async Task<ToolExecutionInfo> CompleteToolExecution(string executionId, int? exitCode, [FromServices] ToolExecutionService executions) =>
        ToolExecutionHubMapping.ToInfo(await executions.CompleteAsync(
            Caller.From(Context.User), executionId, new CompleteToolExecutionRequest(exitCode), Context.ConnectionAborted));

    public async Task<ToolExecutionInfo> FailToolExecution(string executionId, string reason, [FromServices] ToolExecutionService executions) =>
        ToolExecutionHubMapping.ToInfo(await executions.FailAsync(
            Caller.From(Context.User), executionId, new FailToolExecutionRequest(reason), Context.ConnectionAborted));

    public async Task<ToolExecutionInfo> TimeOutToolExecution(string executionId, [FromServices] ToolExecutionService executions) =>
        ToolExecutionHubMapping.ToInfo(await executions.TimeOutAsync(Caller.From(Context.User), executionId, Context.ConnectionAborted));
}
