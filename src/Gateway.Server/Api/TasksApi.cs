using System.Globalization;
using Gateway.Server.Events;
using Gateway.Server.Orchestration;
using Gateway.Server.Orchestration.Tasks;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Gateway.Server.Api;

/// <summary>REST over tasks. Reads: any role. Changes: agent (own tasks) or admin. Errors: problem details.</summary>
internal static class TasksApi
{
    public static RouteGroupBuilder MapTasksApi(this IEndpointRouteBuilder endpoints)
    {
        var group = endpoints.MapGroup("/api/tasks").WithTags("Tasks");
        group.MapPost("/", CreateTask).WithName(nameof(CreateTask));
        group.MapGet("/", ListTasks).WithName(nameof(ListTasks));
        group.MapGet("/{id}", GetTask).WithName(nameof(GetTask));
        group.MapPost("/{id}/status", ChangeTaskStatus).WithName(nameof(ChangeTaskStatus));
        group.MapPost("/{id}/progress", ReportTaskProgress).WithName(nameof(ReportTaskProgress));
        group.MapDelete("/{id}", DeleteTask).WithName(nameof(DeleteTask));
        return group;
    }

    public static async Task<Created<TaskView>> CreateTask(CreateTaskRequest request, HttpContext http, TaskService tasks, CancellationToken cancellationToken)
    {
        var task = await tasks.CreateAsync(Caller.From(http.User), request, cancellationToken);
        return TypedResults.Created($"/api/tasks/{task.Id}", task);
    }

    public static async Task<Ok<TaskPage>> ListTasks(
        TaskService tasks,
        string? status,
        string? type,
        string? workspace,
        string? createdAfter,
        string? createdBefore,
        string? page,
        string? pageSize,
        CancellationToken cancellationToken) =>
        TypedResults.Ok(await tasks.ListAsync(
            status,
            type,
            workspace,
            Time(createdAfter, nameof(createdAfter)),
            Time(createdBefore, nameof(createdBefore)),
            Number(page, nameof(page), 1),
            Number(pageSize, nameof(pageSize), 50),
            cancellationToken));

    public static async Task<Ok<TaskView>> GetTask(string id, TaskService tasks, CancellationToken cancellationToken) =>
        TypedResults.Ok(await tasks.GetAsync(id, cancellationToken));

    public static async Task<Ok<TaskView>> ChangeTaskStatus(
        string id, ChangeTaskStatusRequest request, HttpContext http, TaskService tasks, CancellationToken cancellationToken) =>
        TypedResults.Ok(await tasks.ChangeStatusAsync(Caller.From(http.User), id, request, cancellationToken));

    public static async Task<Accepted> ReportTaskProgress(
        string id, TaskProgressRequest request, HttpContext http, TaskService tasks, CancellationToken cancellationToken)
    {
        await tasks.ReportProgressAsync(Caller.From(http.User), id, request, cancellationToken);
        return TypedResults.Accepted((string?)null);
    }

    public static async Task<NoContent> DeleteTask(string id, HttpContext http, TaskService tasks, CancellationToken cancellationToken)
    {
        await tasks.DeleteAsync(Caller.From(http.User), id, cancellationToken);
        return TypedResults.NoContent();
    }

    internal static int Number(string? text, string field, int fallback) =>
        text is null ? fallback
        : int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) ? value
        : throw new InvalidInputException(field, "must be an integer");

    internal static DateTime? Time(string? text, string field) =>
        text is null ? null
        : DateTime.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out var value) ? value
        : throw new InvalidInputException(field, "must be an ISO 8601 time, e.g. 2026-01-31T12:00:00Z");
}
