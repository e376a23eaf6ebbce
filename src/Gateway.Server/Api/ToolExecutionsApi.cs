using Gateway.Server.Orchestration;
using Gateway.Server.Orchestration.ToolExecutions;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Gateway.Server.Api;

/// <summary>
/// REST over tool executions: started under their task, then addressed by their own id. Reads: any role. Changes:
/// agent or admin. started_at, completed_at and duration_ms are always the gateway's. Errors: problem details.
/// </summary>
internal static class ToolExecutionsApi
{
    public static IEndpointRouteBuilder MapToolExecutionsApi(this IEndpointRouteBuilder endpoints)
    {
        var byTask = endpoints.MapGroup("/api/tasks/{taskId}/tool-executions").WithTags("Tool executions");
        byTask.MapPost("/", StartToolExecution).WithName(nameof(StartToolExecution));
        byTask.MapGet("/", ListToolExecutions).WithName(nameof(ListToolExecutions));

        var group = endpoints.MapGroup("/api/tool-executions").WithTags("Tool executions");
        group.MapGet("/{id}", GetToolExecution).WithName(nameof(GetToolExecution));
        group.MapPost("/{id}/output", AppendToolOutput).WithName(nameof(AppendToolOutput));
        group.MapPost("/{id}/complete", CompleteToolExecution).WithName(nameof(CompleteToolExecution));
        group.MapPost("/{id}/fail", FailToolExecution).WithName(nameof(FailToolExecution));
        group.MapPost("/{id}/timeout", TimeOutToolExecution).WithName(nameof(TimeOutToolExecution));
        return endpoints;
    }

    public static async Task<Created<ToolExecutionView>> StartToolExecution(
        string taskId, StartToolExecutionRequest request, HttpContext http, ToolExecutionService executions, CancellationToken cancellationToken)
    {
        var execution = await executions.StartAsync(Caller.From(http.User), taskId, request, cancellationToken);
        return TypedResults.Created($"/api/tool-executions/{execution.Id}", execution);
    }

    public static async Task<Ok<IReadOnlyList<ToolExecutionView>>> ListToolExecutions(
        string taskId, ToolExecutionService executions, CancellationToken cancellationToken) =>
        TypedResults.Ok(await executions.ListByTaskAsync(taskId, cancellationToken));

    public static async Task<Ok<ToolExecutionView>> GetToolExecution(string id, ToolExecutionService executions, CancellationToken cancellationToken) =>
        TypedResults.Ok(await executions.GetAsync(id, cancellationToken));

    public static async Task<Accepted> AppendToolOutput(
        string id, AppendToolOutputRequest request, HttpContext http, ToolExecutionService executions, CancellationToken cancellationToken)
    {
        await executions.AppendOutputAsync(Caller.From(http.User), id, request, cancellationToken);
        return TypedResults.Accepted((string?)null);
    }

    /// <param name="request">Optional: an empty body completes without an exit code.</param>
    public static async Task<Ok<ToolExecutionView>> CompleteToolExecution(
        string id, CompleteToolExecutionRequest? request, HttpContext http, ToolExecutionService executions, CancellationToken cancellationToken) =>
        TypedResults.Ok(await executions.CompleteAsync(Caller.From(http.User), id, request, cancellationToken));

    public static async Task<Ok<ToolExecutionView>> FailToolExecution(
        string id, FailToolExecutionRequest request, HttpContext http, ToolExecutionService executions, CancellationToken cancellationToken) =>
        TypedResults.Ok(await executions.FailAsync(Caller.From(http.User), id, request, cancellationToken));

    public static async Task<Ok<ToolExecutionView>> TimeOutToolExecution(
        string id, HttpContext http, ToolExecutionService executions, CancellationToken cancellationToken) =>
        TypedResults.Ok(await executions.TimeOutAsync(Caller.From(http.User), id, cancellationToken));
}
