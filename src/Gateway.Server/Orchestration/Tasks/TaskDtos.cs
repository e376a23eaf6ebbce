using System.Text.Json;
using Gateway.Data.Conversion;
using Gateway.Data.Entities;
using Gateway.Server.Events;

namespace Gateway.Server.Orchestration.Tasks;

/// <summary>A task as the API shows it. JSON columns are returned as JSON, not strings.</summary>
public sealed record TaskView(
    string Id,
    string Title,
    string? Description,
    string TaskType,
    string Status,
    JsonElement Config,
    JsonElement? Metadata,
    string? WorkspacePath,
    DateTime CreatedAt,
    DateTime UpdatedAt,
    DateTime? StartedAt,
    DateTime? CompletedAt,
    string? Error)
{
    internal static TaskView From(AgentTask task) => new(
        task.Id,
        task.Title,
        task.Description,
        task.TaskType,
        StoreEnum.ToStoreValue(task.Status),
        Parse(task.Config) ?? default,
        Parse(task.Metadata),
        task.WorkspacePath,
        task.CreatedAt,
        task.UpdatedAt,
        task.StartedAt,
        task.CompletedAt,
        task.Error);

    /// <summary>
    /// A JSON column as JSON. The orchestrator writes this database too, so a column may hold text the gateway cannot
    /// serve as JSON (malformed, or a string System.Text.Json cannot write back): it is served as a JSON string holding
    /// the stored text, so one bad row never fails a list. The gateway's own writes are always objects.
    /// </summary>
    internal static JsonElement? Parse(string? json)
    {
        if (json is null)
        {
            return null;
        }

        try
        {
            using var document = JsonDocument.Parse(json);
            JsonInput.Text(document.RootElement, "$", objectOnly: false);
            return document.RootElement.Clone();
        }
        catch (Exception exception) when (exception is JsonException or InvalidInputException)
        {
            return JsonSerializer.SerializeToElement(json);
        }
    }
}

/// <summary>Hub shapes: JSON fields as text.</summary>
internal static class TaskHubMapping
{
    public static Gateway.Contracts.TaskInfo ToInfo(TaskView view) => new(
        view.Id, view.Title, view.Description, view.TaskType, view.Status, view.Config.GetRawText(), view.Metadata?.GetRawText(),
        view.WorkspacePath, view.CreatedAt, view.UpdatedAt, view.StartedAt, view.CompletedAt, view.Error);

    public static CreateTaskRequest FromCommand(Gateway.Contracts.CreateTaskCommand? command) =>
        command is null
            ? throw new Events.InvalidInputException("$", "a task is required")
            : new(command.Title, command.Description, command.TaskType, ParseJson(command.Config, "$.config"), ParseJson(command.Metadata, "$.metadata"), command.WorkspacePath, command.Id);

    public static ChangeTaskStatusRequest FromCommand(Gateway.Contracts.ChangeTaskStatusCommand? command) =>
        command is null
            ? throw new Events.InvalidInputException("$", "a status change is required")
            : new(command.Status, command.ExpectedStatus, command.Error, ParseJson(command.Result, "$.result"));

    /// <summary>JSON text to an element; malformed text is a 400 naming the field and where in it the error is.</summary>
    public static JsonElement? ParseJson(string? text, string field)
    {
        if (text is null)
        {
            return null;
        }

        JsonInput.ValidUtf16(text, field);
        try
        {
            using var document = JsonDocument.Parse(text);
            return document.RootElement.Clone();
        }
        catch (JsonException exception)
        {
            throw new Events.InvalidInputException(field, $"is not valid JSON (line {exception.LineNumber + 1}, byte {exception.BytePositionInLine + 1}): {exception.Message.Split('.')[0]}");
        }
    }
}

/// <param name="Id">Optional: a UUID of the caller's choosing, so that the create sent again is refused (409), never applied twice.</param>
public sealed record CreateTaskRequest(
    string? Title,
    string? Description,
    string? TaskType,
    JsonElement? Config,
    JsonElement? Metadata,
    string? WorkspacePath,
    string? Id = null);

/// <param name="ExpectedStatus">Optional: refuse (409) unless the task is in this status now (a compare-and-set).</param>
/// <param name="Error">Required when moving to failed.</param>
/// <param name="Result">Optional, with completed: carried by the task.completed event.</param>
public sealed record ChangeTaskStatusRequest(string? Status, string? ExpectedStatus = null, string? Error = null, JsonElement? Result = null);

public sealed record TaskProgressRequest(int? Progress, string? Message = null);

public sealed record TaskPage(IReadOnlyList<TaskView> Items, int Page, int PageSize, int Total);
