using MessagePack;

namespace Gateway.Contracts;

/// <summary>A task over the hub. JSON columns travel as JSON text, so MessagePack and JSON clients see the same.</summary>
[MessagePackObject]
public sealed record TaskInfo(
    [property: Key("id")] string Id,
    [property: Key("title")] string Title,
    [property: Key("description")] string? Description,
    [property: Key("taskType")] string TaskType,
    [property: Key("status")] string Status,
    [property: Key("config")] string Config,
    [property: Key("metadata")] string? Metadata,
    [property: Key("workspacePath")] string? WorkspacePath,
    [property: Key("createdAt")] DateTime CreatedAt,
    [property: Key("updatedAt")] DateTime UpdatedAt,
    [property: Key("startedAt")] DateTime? StartedAt,
    [property: Key("completedAt")] DateTime? CompletedAt,
    [property: Key("error")] string? Error);

/// <param name="Config">A JSON object as text; null for <c>{}</c>.</param>
/// <param name="Metadata">A JSON object as text, or null.</param>
/// <param name="Id">A UUID of the caller's choosing, or null for one chosen by the gateway: the same create sent again is then refused (conflict), never applied twice.</param>
[MessagePackObject]
public sealed record CreateTaskCommand(
    [property: Key("title")] string Title,
    [property: Key("taskType")] string TaskType,
    [property: Key("description")] string? Description = null,
    [property: Key("config")] string? Config = null,
    [property: Key("metadata")] string? Metadata = null,
    [property: Key("workspacePath")] string? WorkspacePath = null,
    [property: Key("id")] string? Id = null);

/// <param name="ExpectedStatus">Refuse (conflict) unless the task is in this status now.</param>
/// <param name="Error">Required with failed.</param>
/// <param name="Result">JSON text carried by task.completed.</param>
[MessagePackObject]
public sealed record ChangeTaskStatusCommand(
    [property: Key("status")] string Status,
    [property: Key("expectedStatus")] string? ExpectedStatus = null,
    [property: Key("error")] string? Error = null,
    [property: Key("result")] string? Result = null);

/// <summary>Hub methods for tasks (agents: their own tasks; admins: any). Errors carry <see cref="HubErrorCodes"/>.</summary>
public interface ITaskHub
{
    Task<TaskInfo> CreateTask(CreateTaskCommand command);

    Task<TaskInfo> GetTask(string taskId);

    Task<TaskInfo> ChangeTaskStatus(string taskId, ChangeTaskStatusCommand command);

    Task<bool> ReportTaskProgress(string taskId, int progress, string? message);

    Task<bool> DeleteTask(string taskId);
}
