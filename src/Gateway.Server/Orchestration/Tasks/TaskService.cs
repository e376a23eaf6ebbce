using System.Text.Json;
using Gateway.Contracts;
using Gateway.Data;
using Gateway.Data.Conversion;
using Gateway.Data.Entities;
using Gateway.Server.Events;
using Gateway.Server.Orchestration.Workflows;
using Microsoft.EntityFrameworkCore;

namespace Gateway.Server.Orchestration.Tasks;

/// <summary>
/// Tasks: every change goes through the change writer with its events, in one transaction. The same service serves
/// REST and the hub. Agents change the tasks they created (recorded as <c>metadata.created_by</c>); admins any.
/// </summary>
internal sealed class TaskService
{
    public const int MaxPageSize = 500;

    private readonly ChangeWriter _writer;
    private readonly IDbContextFactory<GatewayDbContext> _contexts;

    private readonly Database.SchemaValues _schema;

    public TaskService(ChangeWriter writer, IDbContextFactory<GatewayDbContext> contexts, Database.SchemaValues schema)
    {
        _writer = writer;
        _contexts = contexts;
        _schema = schema;
    }

    public Task<TaskView> CreateAsync(Caller caller, CreateTaskRequest? request, CancellationToken cancellationToken)
    {
        RequireWriter(caller);
        if (request is null)
        {
            throw new InvalidInputException("$", "a task is required");
        }

        var title = JsonInput.RequiredText(request.Title, "$.title", 500);
        var taskType = JsonInput.RequiredText(request.TaskType, "$.taskType", 100);
        var description = JsonInput.OptionalText(request.Description, "$.description", 10_000);
        var workspace = JsonInput.OptionalName(request.WorkspacePath, "$.workspacePath", 4096);
        var config = JsonInput.Text(request.Config, "$.config") ?? "{}";
        var metadata = WithCreator(JsonInput.Text(request.Metadata, "$.metadata"), caller.UserId);
        var (id, chosen) = JsonInput.NewId(request.Id, "$.id");

        return _writer.ExecuteAsync(
            async (scope, token) =>
            {
                if (chosen && await scope.Db.Tasks.AnyAsync(t => t.Id == id, token))
                {
                    throw JsonInput.AlreadyExists("task", id);
                }

                var task = new AgentTask
                {
                    Id = id,
                    Title = title,
                    TaskType = taskType,
                    Description = description,
                    WorkspacePath = workspace,
                    Config = config,
                    Metadata = metadata,
                    Status = AgentTaskStatus.Pending,
                    CreatedAt = scope.Now,
                    UpdatedAt = scope.Now,
                };
                scope.Db.Tasks.Add(task);
                scope.Emit(
                    EventTypes.TaskCreated,
                    EventPriorities.Normal,
                    new { task_id = task.Id, title, task_type = taskType, status = "pending", timestamp = scope.Now },
                    taskId: task.Id);
                return TaskView.From(task);
            },
            cancellationToken);
    }

    public async Task<TaskView> GetAsync(string id, CancellationToken cancellationToken)
    {
        await using var db = await _contexts.CreateDbContextAsync(cancellationToken);
        var task = await db.Tasks.AsNoTracking().FirstOrDefaultAsync(t => t.Id == id, cancellationToken);
        return task is null ? throw new NotFoundException("task", id) : TaskView.From(task);
    }

    public async Task<TaskPage> ListAsync(
        string? status, string? taskType, string? workspace, DateTime? createdAfter, DateTime? createdBefore, int page, int pageSize, CancellationToken cancellationToken)
    {
        if (page is < 1 or > Paging.MaxPage)
        {
            throw new InvalidInputException("page", $"must be from 1 to {Paging.MaxPage}");
        }

        if (pageSize is < 1 or > MaxPageSize)
        {
            throw new InvalidInputException("pageSize", $"must be from 1 to {MaxPageSize}");
        }

        await using var db = await _contexts.CreateDbContextAsync(cancellationToken);
        var rows = db.Tasks.AsNoTracking();
        if (status is not null)
        {
            var parsed = ParseStatus(status, "status");
            rows = rows.Where(t => t.Status == parsed);
        }

        if (taskType is not null)
        {
            rows = rows.Where(t => t.TaskType == taskType);
        }

        if (workspace is not null)
        {
            rows = rows.Where(t => t.WorkspacePath == workspace);
        }

        if (createdAfter is { } after)
        {
            var utc = after.ToUniversalTime();
            rows = rows.Where(t => t.CreatedAt >= utc);
        }

        if (createdBefore is { } before)
        {
            var utc = before.ToUniversalTime();
            rows = rows.Where(t => t.CreatedAt < utc);
        }

        var total = await rows.CountAsync(cancellationToken);
        var items = await rows.OrderByDescending(t => t.CreatedAt).ThenByDescending(t => t.Id)
            .Skip((page - 1) * pageSize).Take(pageSize).ToListAsync(cancellationToken);
        return new TaskPage(items.Select(TaskView.From).ToList(), page, pageSize, total);
    }

    public Task<TaskView> ChangeStatusAsync(Caller caller, string id, ChangeTaskStatusRequest? request, CancellationToken cancellationToken)
    {
        RequireWriter(caller);
        if (request is null)
        {
            throw new InvalidInputException("$", "a status change is required");
        }

        var target = ParseStatus(JsonInput.RequiredText(request.Status, "$.status", 20), "$.status");
        var expected = request.ExpectedStatus is null ? (AgentTaskStatus?)null : ParseStatus(request.ExpectedStatus, "$.expectedStatus");
        var error = JsonInput.OptionalText(request.Error, "$.error", 10_000);
        if (target == AgentTaskStatus.Failed && string.IsNullOrWhiteSpace(error))
        {
            throw new InvalidInputException("$.error", "is required when the status is failed");
        }

        var result = JsonInput.Text(request.Result, "$.result", objectOnly: false);
        return _writer.ExecuteAsync(
            async (scope, token) =>
            {
                var (task, inWorkflow) = await FindForChangeAsync(scope, caller, id, token);
                if (expected is { } must && task.Status != must)
                {
                    throw new ConflictException(
                        $"task {id} is {StoreEnum.ToStoreValue(task.Status)}, not {StoreEnum.ToStoreValue(must)} as expected; another change came first");
                }

                var retry = IsRetryWithoutQueued(task.Status, target);
                if (!retry && !_schema.Allows(target))
                {
                    throw new InvalidInputException("$.status", $"{StoreEnum.ToStoreValue(target)} cannot be stored: {_schema.Limit(target)}");
                }

                if (!retry && !TaskStateMachine.CanMove(task.Status, target))
                {
                    var allowed = TaskStateMachine.From(task.Status).Where(_schema.Allows).ToList();
                    throw new ConflictException(
                        $"task {id} cannot go from {StoreEnum.ToStoreValue(task.Status)} to {StoreEnum.ToStoreValue(target)}; allowed: "
                        + (allowed.Count == 0 ? "none (final)" : string.Join(", ", allowed.Select(StoreEnum.ToStoreValue))));
                }

                var previous = task.Status;
                var stored = retry ? AgentTaskStatus.Pending : target;
                task.Status = stored;
                switch (stored)
                {
                    case AgentTaskStatus.Running:
                        task.StartedAt ??= scope.Now;
                        break;
                    case AgentTaskStatus.Completed or AgentTaskStatus.Cancelled:
                        task.CompletedAt = scope.Now;
                        break;
                    case AgentTaskStatus.Failed:
                        task.CompletedAt = scope.Now;
                        task.Error = error;
                        break;
                    case AgentTaskStatus.Queued or AgentTaskStatus.Pending when previous == AgentTaskStatus.Failed:
                        // A retry: the row describes the new attempt; the failure stays in the event log.
                        task.CompletedAt = null;
                        task.Error = null;
                        break;
                    default:
                        break;
                }

                var status = StoreEnum.ToStoreValue(stored);
                scope.Emit(
                    EventTypes.TaskStatus,
                    EventPriorities.Normal,
                    new { task_id = id, status, previous_status = StoreEnum.ToStoreValue(previous), timestamp = scope.Now },
                    taskId: id);
                if (stored == AgentTaskStatus.Completed)
                {
                    scope.Emit(EventTypes.TaskCompleted, EventPriorities.Normal, new { task_id = id, result = TaskView.Parse(result), timestamp = scope.Now }, taskId: id);
                }
                else if (stored == AgentTaskStatus.Failed)
                {
                    scope.Emit(EventTypes.TaskFailed, EventPriorities.High, new { task_id = id, error, timestamp = scope.Now }, taskId: id);
                }

                if (inWorkflow)
                {
                    await WorkflowProgress.EmitForTaskAsync(scope, id, previous, stored, _schema, token);
                }

                return TaskView.From(task);
            },
            cancellationToken,
            ChangeSaving.Shared);
    }

    /// <summary>
    /// A retry of a failed task where tasks.status has no queued (the orchestrator's schema): asked for as queued or as
    /// pending, it is stored as pending (waiting to run, as queued is). Any other status the database lacks is refused,
    /// naming its limit.
    /// </summary>
    private bool IsRetryWithoutQueued(AgentTaskStatus current, AgentTaskStatus requested) =>
        current == AgentTaskStatus.Failed && !_schema.Allows(AgentTaskStatus.Queued) && requested is AgentTaskStatus.Queued or AgentTaskStatus.Pending;

    public Task<bool> ReportProgressAsync(Caller caller, string id, TaskProgressRequest? request, CancellationToken cancellationToken)
    {
        RequireWriter(caller);
        if (request?.Progress is not { } progress || progress is < 0 or > 100)
        {
            throw new InvalidInputException("$.progress", "must be an integer from 0 to 100");
        }

        var message = JsonInput.OptionalText(request.Message, "$.message", 2_000);
        return _writer.ExecuteAsync(
            async (scope, token) =>
            {
                var task = (await FindForChangeAsync(scope, caller, id, token)).Task;
                if (task.Status != AgentTaskStatus.Running)
                {
                    throw new ConflictException($"task {id} is {StoreEnum.ToStoreValue(task.Status)}; progress is reported while running");
                }

                scope.Emit(EventTypes.TaskProgress, EventPriorities.Low, new { task_id = id, progress, message, timestamp = scope.Now }, taskId: id);
                return true;
            },
            cancellationToken,
            ChangeSaving.Shared);
    }

    public Task<bool> DeleteAsync(Caller caller, string id, CancellationToken cancellationToken)
    {
        RequireWriter(caller);
        return _writer.ExecuteAsync(
            async (scope, token) =>
            {
                var task = (await FindForChangeAsync(scope, caller, id, token)).Task;
                var workflows = await scope.Db.WorkflowTasks.Where(link => link.TaskId == id).Select(link => link.WorkflowId).ToListAsync(token);
                scope.Emit(EventTypes.TaskDeleted, EventPriorities.Normal, new { task_id = id, timestamp = scope.Now }, taskId: id);
                foreach (var workflowId in workflows)
                {
                    // The rest of the workflow closes ranks (sequences 0..n-1) and its progress is derived again.
                    var links = await scope.Db.WorkflowTasks.Where(link => link.WorkflowId == workflowId)
                        .OrderBy(link => link.Sequence).ThenBy(link => link.TaskId).ToListAsync(token);
                    var remaining = links.Where(link => link.TaskId != id).ToList();
                    scope.Db.WorkflowTasks.RemoveRange(links.Where(link => link.TaskId == id));
                    for (var sequence = 0; sequence < remaining.Count; sequence++)
                    {
                        remaining[sequence].Sequence = sequence;
                    }

                    scope.Emit(
                        EventTypes.WorkflowTasksChanged,
                        EventPriorities.Normal,
                        new { workflow_id = workflowId, task_ids = remaining.Select(link => link.TaskId).ToArray(), removed_task = id, timestamp = scope.Now },
                        workflowId: workflowId);
                    await WorkflowProgress.EmitAsync(scope, workflowId, _schema, token);
                }

                scope.Db.Tasks.Remove(task);
                return true;
            },
            cancellationToken);
    }

    /// <summary>
    /// Compiled once: every change of a task starts here, and EF's per-call query-cache lookup showed in profiles. The
    /// task comes tracked (a change shared with others sees their unsaved changes of it), with whether it belongs to a
    /// workflow: most tasks do not, and their status changes then skip the query for their workflows.
    /// </summary>
    private static readonly CompiledPerModel<Func<GatewayDbContext, string, CancellationToken, Task<TaskForChange?>>> TaskById = new(() =>
        EF.CompileAsyncQuery((GatewayDbContext db, string id, CancellationToken _) =>
            db.Tasks.Where(t => t.Id == id).Select(t => new TaskForChange(t, db.WorkflowTasks.Any(link => link.TaskId == t.Id))).FirstOrDefault()));

    private sealed record TaskForChange(AgentTask Task, bool InWorkflow);

    private static async Task<TaskForChange> FindForChangeAsync(ChangeScope scope, Caller caller, string id, CancellationToken cancellationToken)
    {
        var found = await TaskById.For(scope.Db)(scope.Db, id, cancellationToken) ?? throw new NotFoundException("task", id);
        var task = found.Task;
        if (!caller.IsAdmin && CreatorOf(task.Metadata) != caller.UserId)
        {
            throw new ForbiddenException($"task {id} was not created by {caller.UserId}; agents change their own tasks only");
        }

        return found;
    }

    private static void RequireWriter(Caller caller)
    {
        if (!caller.CanWrite)
        {
            throw new ForbiddenException("changing tasks requires the role agent or admin");
        }
    }

    internal static AgentTaskStatus ParseStatus(string text, string field) =>
        StoreEnum.StoreValues<AgentTaskStatus>().Contains(text, StringComparer.Ordinal)
            ? StoreEnum.FromStoreValue<AgentTaskStatus>(text)
            : throw new InvalidInputException(field, $"must be one of {string.Join(", ", StoreEnum.StoreValues<AgentTaskStatus>())}");

    private static string WithCreator(string? metadata, string userId)
    {
        var node = metadata is null ? new System.Text.Json.Nodes.JsonObject() : System.Text.Json.Nodes.JsonNode.Parse(metadata)!.AsObject();
        node["created_by"] = userId;
        return node.ToJsonString();
    }

    /// <summary>The user recorded as the task's creator (<c>metadata.created_by</c>), or null.</summary>
    internal static string? CreatorOf(string? metadata)
    {
        if (metadata is null)
        {
            return null;
        }

        try
        {
            using var document = JsonDocument.Parse(metadata);
            return document.RootElement.ValueKind == JsonValueKind.Object && document.RootElement.TryGetProperty("created_by", out var creator)
                ? creator.GetString()
                : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
