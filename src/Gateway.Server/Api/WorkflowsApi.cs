using Gateway.Server.Orchestration;
using Gateway.Server.Orchestration.Workflows;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Gateway.Server.Api;

/// <summary>
/// REST over workflows and their task lists. Reads: any role. Changes: agent or admin (any workflow). Every task list
/// change answers with the workflow as it now is. Errors: problem details.
/// </summary>
internal static class WorkflowsApi
{
    public static RouteGroupBuilder MapWorkflowsApi(this IEndpointRouteBuilder endpoints)
    {
        var group = endpoints.MapGroup("/api/workflows").WithTags("Workflows");
        group.MapPost("/", CreateWorkflow).WithName(nameof(CreateWorkflow));
        group.MapGet("/", ListWorkflows).WithName(nameof(ListWorkflows));
        group.MapGet("/{id}", GetWorkflow).WithName(nameof(GetWorkflow));
        group.MapPost("/{id}/status", ChangeWorkflowStatus).WithName(nameof(ChangeWorkflowStatus));
        group.MapPost("/{id}/tasks", AddWorkflowTask).WithName(nameof(AddWorkflowTask));
        group.MapPut("/{id}/tasks", ReorderWorkflowTasks).WithName(nameof(ReorderWorkflowTasks));
        group.MapDelete("/{id}/tasks/{taskId}", RemoveWorkflowTask).WithName(nameof(RemoveWorkflowTask));
        return group;
    }

    public static async Task<Created<WorkflowView>> CreateWorkflow(
        CreateWorkflowRequest request, HttpContext http, WorkflowService workflows, CancellationToken cancellationToken)
    {
        var workflow = await workflows.CreateAsync(Caller.From(http.User), request, cancellationToken);
        return TypedResults.Created($"/api/workflows/{workflow.Id}", workflow);
    }

    /// <param name="name">Exact name.</param>
    public static async Task<Ok<WorkflowPage>> ListWorkflows(
        WorkflowService workflows, string? status, string? name, string? page, string? pageSize, CancellationToken cancellationToken) =>
        TypedResults.Ok(await workflows.ListAsync(
            status, name, TasksApi.Number(page, nameof(page), 1), TasksApi.Number(pageSize, nameof(pageSize), 50), cancellationToken));

    public static async Task<Ok<WorkflowView>> GetWorkflow(string id, WorkflowService workflows, CancellationToken cancellationToken) =>
        TypedResults.Ok(await workflows.GetAsync(id, cancellationToken));

    public static async Task<Ok<WorkflowView>> ChangeWorkflowStatus(
        string id, ChangeWorkflowStatusRequest request, HttpContext http, WorkflowService workflows, CancellationToken cancellationToken) =>
        TypedResults.Ok(await workflows.ChangeStatusAsync(Caller.From(http.User), id, request, cancellationToken));

    public static async Task<Ok<WorkflowView>> AddWorkflowTask(
        string id, AddWorkflowTaskRequest request, HttpContext http, WorkflowService workflows, CancellationToken cancellationToken) =>
        TypedResults.Ok(await workflows.AddTaskAsync(Caller.From(http.User), id, request, cancellationToken));

    public static async Task<Ok<WorkflowView>> ReorderWorkflowTasks(
        string id, ReorderWorkflowTasksRequest request, HttpContext http, WorkflowService workflows, CancellationToken cancellationToken) =>
        TypedResults.Ok(await workflows.ReorderTasksAsync(Caller.From(http.User), id, request, cancellationToken));

    public static async Task<Ok<WorkflowView>> RemoveWorkflowTask(
        string id, string taskId, HttpContext http, WorkflowService workflows, CancellationToken cancellationToken) =>
        TypedResults.Ok(await workflows.RemoveTaskAsync(Caller.From(http.User), id, taskId, cancellationToken));
}
