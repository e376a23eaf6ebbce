using MessagePack;

namespace Gateway.Contracts;

/// <summary>
/// A tool execution over the hub. <see cref="Arguments"/> travels as JSON text. <see cref="StartedAt"/>,
/// <see cref="CompletedAt"/> and <see cref="DurationMs"/> are always set by the gateway.
/// </summary>
[MessagePackObject]
public sealed record ToolExecutionInfo(
    [property: Key("id")] string Id,
    [property: Key("taskId")] string TaskId,
    [property: Key("toolName")] string ToolName,
    [property: Key("arguments")] string Arguments,
    [property: Key("output")] string? Output,
    [property: Key("status")] string Status,
    [property: Key("error")] string? Error,
    [property: Key("createdAt")] DateTime CreatedAt,
    [property: Key("startedAt")] DateTime? StartedAt,
    [property: Key("completedAt")] DateTime? CompletedAt,
    [property: Key("durationMs")] long? DurationMs);

/// <param name="Arguments">Required: a JSON object as text.</param>
[MessagePackObject]
public sealed record StartToolExecutionCommand(
    [property: Key("toolName")] string ToolName,
    [property: Key("arguments")] string Arguments,
    [property: Key("id")] string? Id = null);

/// <summary>
/// Hub methods for tool executions (agent or admin; reads: any role). An execution starts running; it ends once, as
/// completed, failed or timeout; ending it again is a conflict. Output is capped at 1 MiB (UTF-8) per execution: a
/// chunk that would pass the cap is refused whole (conflict) and nothing of it is stored.
/// </summary>
public interface IToolExecutionHub
{
    /// <summary>Starts a tool for a task that is not completed or cancelled; tool.started.</summary>
    Task<ToolExecutionInfo> StartToolExecution(string taskId, StartToolExecutionCommand command);

    Task<ToolExecutionInfo> GetToolExecution(string executionId);

    /// <summary>The task's executions, oldest first.</summary>
    Task<IReadOnlyList<ToolExecutionInfo>> ListToolExecutions(string taskId);

    /// <summary>Appends a chunk of output while running; tool.output.</summary>
    Task<bool> AppendToolOutput(string executionId, string output, bool isStderr);

    /// <summary>tool.completed with status completed and the exit code (events only: there is no exit code column).</summary>
    Task<ToolExecutionInfo> CompleteToolExecution(string executionId, int? exitCode);

    /// <summary>tool.failed; <paramref name="reason"/> (the error) is required.</summary>
    Task<ToolExecutionInfo> FailToolExecution(string executionId, string reason);

    /// <summary>tool.completed with status timeout.</summary>
    Task<ToolExecutionInfo> TimeOutToolExecution(string executionId);
}
