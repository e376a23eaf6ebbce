using System.Text;
using Gateway.Contracts;
using Gateway.Data;
using Gateway.Data.Conversion;
using Gateway.Data.Entities;
using Gateway.Server.Events;
using Microsoft.EntityFrameworkCore;

namespace Gateway.Server.Orchestration.ToolExecutions;

/// <summary>
/// Tool executions, the audit log of the tools an agent runs for a task. Every change goes through the change writer
/// with its events (each carrying the task id and the execution id, so task subscribers see them too); REST and the
/// hub share this service.
/// <para>
/// Times are the gateway's: started_at is set when the execution starts, completed_at when it ends, and duration_ms =
/// completed_at − started_at in whole milliseconds; a caller cannot send any of them.
/// </para>
/// <para>
/// Output is capped at <see cref="MaxOutputBytes"/> (UTF-8) per execution. A chunk that would take the stored output
/// past the cap is refused whole with a conflict ("output limit reached") and nothing of it is stored: the output
/// kept is always a prefix of what the tool printed, at most 1 MiB, and the agent learns at once that later output is
/// lost rather than having it cut silently. The execution itself stays running and can still be completed or failed.
/// </para>
/// <para>
/// Roles: an execution belongs to its task's owner. An agent starts and changes executions of the tasks it created;
/// admins any; dashboards read only.
/// </para>
/// </summary>
internal sealed class ToolExecutionService
{
    public const int MaxOutputBytes = 1024 * 1024;

    private readonly ChangeWriter _writer;
    private readonly IDbContextFactory<GatewayDbContext> _contexts;

    public ToolExecutionService(ChangeWriter writer, IDbContextFactory<GatewayDbContext> contexts)
    {
        _writer = writer;
        _contexts = contexts;
    }

    /// <summary>Starts a tool for a task (404 unknown; 409 when the task is completed or cancelled): running, tool.started.</summary>
    public Task<ToolExecutionView> StartAsync(Caller caller, string taskId, StartToolExecutionRequest? request, CancellationToken cancellationToken)
    {
        RequireWriter(caller);
        if (request is null)
        {
            throw new InvalidInputException("$", "a tool execution is required");
        }

        var toolName = JsonInput.RequiredText(request.ToolName, "$.toolName", 200);
        var arguments = JsonInput.Text(request.Arguments, "$.arguments", required: true)!;
        var (id, chosen) = JsonInput.NewId(request.Id, "$.id");
        return _writer.ExecuteAsync(
            async (scope, token) =>
            {
                if (chosen && await scope.Db.ToolExecutions.AnyAsync(e => e.Id == id, token))
                {
                    throw JsonInput.AlreadyExists("tool execution", id);
                }

                var task = await scope.Db.Tasks.AsNoTracking().Where(t => t.Id == taskId).Select(t => new { t.Status, t.Metadata }).FirstOrDefaultAsync(token)
                    ?? throw new NotFoundException("task", taskId);
                RequireOwner(caller, taskId, task.Metadata);
                if (task.Status is AgentTaskStatus.Completed or AgentTaskStatus.Cancelled)
                {
                    throw new ConflictException($"task {taskId} is {StoreEnum.ToStoreValue(task.Status)}; tools run only for tasks that are not completed or cancelled");
                }

                var execution = new ToolExecution
                {
                    Id = id,
                    TaskId = taskId,
                    ToolName = toolName,
                    Arguments = arguments,
                    Status = ToolExecutionStatus.Running,
                    CreatedAt = scope.Now,
                    StartedAt = scope.Now,
                };
                scope.Db.ToolExecutions.Add(execution);
                scope.Emit(
                    EventTypes.ToolStarted,
                    EventPriorities.Normal,
                    new { execution_id = execution.Id, task_id = taskId, tool_name = toolName, timestamp = scope.Now },
                    taskId: taskId,
                    executionId: execution.Id);
                return ToolExecutionView.From(execution);
            },
            cancellationToken);
    }

    public async Task<ToolExecutionView> GetAsync(string id, CancellationToken cancellationToken)
    {
        await using var db = await _contexts.CreateDbContextAsync(cancellationToken);
        var execution = await db.ToolExecutions.AsNoTracking().FirstOrDefaultAsync(e => e.Id == id, cancellationToken);
        return execution is null ? throw new NotFoundException("tool execution", id) : ToolExecutionView.From(execution);
    }

    /// <summary>A task's executions, oldest first (404 when the task does not exist).</summary>
    public async Task<IReadOnlyList<ToolExecutionView>> ListByTaskAsync(string taskId, CancellationToken cancellationToken)
    {
        await using var db = await _contexts.CreateDbContextAsync(cancellationToken);
        if (!await db.Tasks.AnyAsync(t => t.Id == taskId, cancellationToken))
        {
            throw new NotFoundException("task", taskId);
        }

        var rows = await db.ToolExecutions.AsNoTracking()
            .Where(e => e.TaskId == taskId)
            .OrderBy(e => e.CreatedAt).ThenBy(e => e.Id)
            .ToListAsync(cancellationToken);
        return rows.Select(ToolExecutionView.From).ToList();
    }

    /// <summary>Appends a chunk while running (409 otherwise, or past the output cap); tool.output.</summary>
    public Task<bool> AppendOutputAsync(Caller caller, string id, AppendToolOutputRequest? request, CancellationToken cancellationToken)
    {
        RequireWriter(caller);
        if (request?.Output is not { Length: > 0 } output)
        {
            throw new InvalidInputException("$.output", "is required: a chunk of the tool's output");
        }

        JsonInput.FreeText(output, "$.output");
        var chunkBytes = Encoding.UTF8.GetByteCount(output);
        if (chunkBytes > MaxOutputBytes)
        {
            throw new InvalidInputException("$.output", $"is {chunkBytes} bytes; an execution keeps at most {MaxOutputBytes} bytes of output");
        }

        var isStderr = request.IsStderr ?? false;
        return _writer.ExecuteAsync(
            async (scope, token) =>
            {
                var execution = await FindForChangeAsync(scope, caller, id, token);
                if (execution.Status != ToolExecutionStatus.Running)
                {
                    throw new ConflictException($"tool execution {id} is {StoreEnum.ToStoreValue(execution.Status)}; output is appended while running");
                }

                var storedBytes = execution.Output is null ? 0 : Encoding.UTF8.GetByteCount(execution.Output);
                if (storedBytes + chunkBytes > MaxOutputBytes)
                {
                    throw new ConflictException(
                        $"output limit reached: tool execution {id} holds {storedBytes} of {MaxOutputBytes} bytes and this chunk of {chunkBytes} bytes would pass it; nothing was appended");
                }

                execution.Output = execution.Output is null ? output : execution.Output + output;
                scope.Emit(
                    EventTypes.ToolOutput,
                    EventPriorities.Low,
                    new { execution_id = id, task_id = execution.TaskId, output, is_stderr = isStderr },
                    taskId: execution.TaskId,
                    executionId: id);
                return true;
            },
            cancellationToken,
            ChangeSaving.Shared);
    }

    /// <summary>running → completed; tool.completed with the exit code.</summary>
    public Task<ToolExecutionView> CompleteAsync(Caller caller, string id, CompleteToolExecutionRequest? request, CancellationToken cancellationToken)
    {
        RequireWriter(caller);
        return EndAsync(caller, id, ToolExecutionStatus.Completed, error: null, request?.ExitCode, cancellationToken);
    }

    /// <summary>running → failed with the error (required); tool.failed, high priority.</summary>
    public Task<ToolExecutionView> FailAsync(Caller caller, string id, FailToolExecutionRequest? request, CancellationToken cancellationToken)
    {
        RequireWriter(caller);
        var error = string.IsNullOrWhiteSpace(request?.Error)
            ? throw new InvalidInputException("$.error", "is required")
            : JsonInput.OptionalText(request.Error, "$.error", 10_000)!;
        return EndAsync(caller, id, ToolExecutionStatus.Failed, error, request?.ExitCode, cancellationToken);
    }

    /// <summary>running → timeout; tool.completed with status timeout.</summary>
    public Task<ToolExecutionView> TimeOutAsync(Caller caller, string id, CancellationToken cancellationToken)
    {
        RequireWriter(caller);
        return EndAsync(caller, id, ToolExecutionStatus.Timeout, error: null, exitCode: null, cancellationToken);
    }

    private Task<ToolExecutionView> EndAsync(Caller caller, string id, ToolExecutionStatus target, string? error, int? exitCode, CancellationToken cancellationToken) =>
        _writer.ExecuteAsync(
            async (scope, token) =>
            {
                var execution = await FindForChangeAsync(scope, caller, id, token);
                if (!ToolExecutionStateMachine.CanMove(execution.Status, target))
                {
                    var allowed = ToolExecutionStateMachine.From(execution.Status);
                    throw new ConflictException(
                        $"tool execution {id} cannot go from {StoreEnum.ToStoreValue(execution.Status)} to {StoreEnum.ToStoreValue(target)}; allowed: "
                        + (allowed.Count == 0 ? "none (final)" : string.Join(", ", allowed.Select(StoreEnum.ToStoreValue))));
                }

                execution.Status = target;
                execution.CompletedAt = scope.Now;
                // Rows the orchestrator wrote may lack started_at: then there is no duration to compute.
                execution.DurationMs = execution.StartedAt is { } started ? Math.Max(0, (long)(scope.Now - started).TotalMilliseconds) : null;
                if (error is not null)
                {
                    execution.Error = error;
                }

                var status = StoreEnum.ToStoreValue(target);
                if (target == ToolExecutionStatus.Failed)
                {
                    scope.Emit(
                        EventTypes.ToolFailed,
                        EventPriorities.High,
                        new { execution_id = id, task_id = execution.TaskId, error, exit_code = exitCode, duration_ms = execution.DurationMs, timestamp = scope.Now },
                        taskId: execution.TaskId,
                        executionId: id);
                }
                else
                {
                    scope.Emit(
                        EventTypes.ToolCompleted,
                        EventPriorities.Normal,
                        new { execution_id = id, task_id = execution.TaskId, status, exit_code = exitCode, duration_ms = execution.DurationMs, timestamp = scope.Now },
                        taskId: execution.TaskId,
                        executionId: id);
                }

                return ToolExecutionView.From(execution);
            },
            cancellationToken,
            ChangeSaving.Shared);

    /// <summary>The execution, tracked; 404 when unknown, 403 unless the caller is an admin or owns its task.</summary>
    private static async Task<ToolExecution> FindForChangeAsync(ChangeScope scope, Caller caller, string id, CancellationToken cancellationToken)
    {
        var execution = await scope.Db.ToolExecutions.FirstOrDefaultAsync(e => e.Id == id, cancellationToken) ?? throw new NotFoundException("tool execution", id);
        if (!caller.IsAdmin)
        {
            RequireOwner(caller, execution.TaskId, await TaskMetadata.For(scope.Db)(scope.Db, execution.TaskId, cancellationToken));
        }

        return execution;
    }

    /// <summary>Compiled once: output chunks, the most frequent change of all, each look up their task's owner.</summary>
    private static readonly CompiledPerModel<Func<GatewayDbContext, string, CancellationToken, Task<string?>>> TaskMetadata = new(() =>
        EF.CompileAsyncQuery((GatewayDbContext db, string taskId, CancellationToken _) =>
            db.Tasks.Where(t => t.Id == taskId).Select(t => t.Metadata).FirstOrDefault()));

    private static void RequireOwner(Caller caller, string taskId, string? taskMetadata)
    {
        if (!caller.IsAdmin && Tasks.TaskService.CreatorOf(taskMetadata) != caller.UserId)
        {
            throw new ForbiddenException($"task {taskId} was not created by {caller.UserId}; agents record tool executions of their own tasks only");
        }
    }

    private static void RequireWriter(Caller caller)
    {
        if (!caller.CanWrite)
        {
            throw new ForbiddenException("recording tool executions requires the role agent or admin");
        }
    }
}
