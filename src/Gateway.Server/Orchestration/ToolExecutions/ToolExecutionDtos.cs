using System.Text.Json;
using Gateway.Contracts;
using Gateway.Data.Conversion;
using Gateway.Data.Entities;
using Gateway.Server.Events;
using Gateway.Server.Orchestration.Tasks;

namespace Gateway.Server.Orchestration.ToolExecutions;

/// <summary>A tool execution as the API shows it; the arguments are returned as JSON.</summary>
public sealed record ToolExecutionView(
    string Id,
    string TaskId,
    string ToolName,
    JsonElement Arguments,
    string? Output,
    string Status,
    string? Error,
    DateTime CreatedAt,
    DateTime? StartedAt,
    DateTime? CompletedAt,
    long? DurationMs)
{
    internal static ToolExecutionView From(ToolExecution execution) => new(
        execution.Id,
        execution.TaskId,
        execution.ToolName,
        TaskView.Parse(execution.Arguments) ?? default,
        execution.Output,
        StoreEnum.ToStoreValue(execution.Status),
        execution.Error,
        execution.CreatedAt,
        execution.StartedAt,
        execution.CompletedAt,
        execution.DurationMs);
}

/// <param name="Arguments">Required: a JSON object.</param>
/// <param name="Id">Optional: a UUID of the caller's choosing, so that the start sent again is refused (409), never applied twice.</param>
public sealed record StartToolExecutionRequest(string? ToolName, JsonElement? Arguments, string? Id = null);

/// <param name="Output">A chunk of the tool's output, appended to what is stored.</param>
/// <param name="IsStderr">Whether the chunk came from standard error (carried by tool.output; the column holds both).</param>
public sealed record AppendToolOutputRequest(string? Output, bool? IsStderr = null);

/// <param name="ExitCode">Optional; carried by tool.completed (tool_executions has no exit code column).</param>
public sealed record CompleteToolExecutionRequest(int? ExitCode = null);

/// <param name="Error">Required: why the tool failed.</param>
/// <param name="ExitCode">Optional; carried by tool.failed.</param>
public sealed record FailToolExecutionRequest(string? Error, int? ExitCode = null);

/// <summary>Hub shapes: the arguments as JSON text.</summary>
internal static class ToolExecutionHubMapping
{
    public static ToolExecutionInfo ToInfo(ToolExecutionView view) => new(
        view.Id, view.TaskId, view.ToolName, view.Arguments.GetRawText(), view.Output, view.Status, view.Error,
        view.CreatedAt, view.StartedAt, view.CompletedAt, view.DurationMs);

    public static StartToolExecutionRequest FromCommand(StartToolExecutionCommand? command) =>
        command is null
            ? throw new InvalidInputException("$", "a tool execution is required")
            : new(command.ToolName, TaskHubMapping.ParseJson(command.Arguments, "$.arguments"), command.Id);
}
