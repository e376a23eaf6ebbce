using Gateway.Contracts;
using Gateway.Data;
using Gateway.Data.Conversion;
using Gateway.Data.Entities;
using Gateway.Server.Events;
using Microsoft.EntityFrameworkCore;

namespace Gateway.Server.Orchestration.Workflows;

/// <summary>
/// Workflows and their task lists: every change goes through the change writer with its events, in one transaction;
/// the same service serves REST and the hub.
/// <para>
/// Roles: an agent changes the workflows it created (recorded in Gateway's table gateway_workflow_owners: the
/// workflows table has no column for it) and adds only its own tasks to them; admins change any workflow; dashboards
/// read only. A workflow with no owner row (written by the orchestrator itself) is changed by admins only.
/// </para>
/// <para>
/// A task list change (add, remove, reorder) renumbers the workflow's tasks 0..n-1 in their order, emits
/// workflow.tasks_changed with the ids in order, then workflow.progress (and completes or fails an active workflow
/// whose tasks now say so, see <see cref="WorkflowProgress"/>).
/// </para>
/// </summary>
internal sealed class WorkflowService
{
    public const int MaxPageSize = 500;

    private readonly ChangeWriter _writer;
    private readonly IDbContextFactory<GatewayDbContext> _contexts;

    private readonly Database.SchemaValues _schema;

    public WorkflowService(ChangeWriter writer, IDbContextFactory<GatewayDbContext> contexts, Database.SchemaValues schema)
    {
        _writer = writer;
        _contexts = contexts;
        _schema = schema;
    }

    public Task<WorkflowView> CreateAsync(Caller caller, CreateWorkflowRequest? request, CancellationToken cancellationToken)
    {
        RequireWriter(caller);
        if (request is null)
        {
            throw new InvalidInputException("$", "a workflow is required");
        }

        var name = JsonInput.RequiredText(request.Name, "$.name", 500);
        var description = JsonInput.OptionalText(request.Description, "$.description", 10_000);
        var definition = JsonInput.Text(request.Definition, "$.definition", required: true)!;
        var (id, chosen) = JsonInput.NewId(request.Id, "$.id");

        return _writer.ExecuteAsync(
            async (scope, token) =>
            {
                if (chosen && await scope.Db.Workflows.AnyAsync(w => w.Id == id, token))
                {
                    throw JsonInput.AlreadyExists("workflow", id);
                }

                var workflow = new Workflow
                {
                    Id = id,
                    Name = name,
                    Description = description,
                    Definition = definition,
                    Status = WorkflowStatus.Draft,
                    CreatedAt = scope.Now,
                    UpdatedAt = scope.Now,
                };
                scope.Db.Workflows.Add(workflow);
                scope.Db.WorkflowOwners.Add(new WorkflowOwner { WorkflowId = workflow.Id, CreatedBy = caller.UserId, CreatedAt = scope.Now });
                scope.Emit(
                    EventTypes.WorkflowCreated,
                    EventPriorities.Normal,
                    new { workflow_id = workflow.Id, name, status = "draft", timestamp = scope.Now },
                    workflowId: workflow.Id);
                return WorkflowView.From(workflow, []);
            },
            cancellationToken);
    }

    public async Task<WorkflowView> GetAsync(string id, CancellationToken cancellationToken)
    {
        await using var db = await _contexts.CreateDbContextAsync(cancellationToken);
        var workflow = await db.Workflows.AsNoTracking().FirstOrDefaultAsync(w => w.Id == id, cancellationToken) ?? throw new NotFoundException("workflow", id);
        var links = await db.WorkflowTasks.AsNoTracking().Include(link => link.AgentTask)
            .Where(link => link.WorkflowId == id)
            .OrderBy(link => link.Sequence).ThenBy(link => link.TaskId)
            .ToListAsync(cancellationToken);
        return WorkflowView.From(workflow, links);
    }

    /// <param name="name">Exact name (the indexed column); null for all.</param>
    public async Task<WorkflowPage> ListAsync(string? status, string? name, int page, int pageSize, CancellationToken cancellationToken)
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
        var rows = db.Workflows.AsNoTracking();
        if (status is not null)
        {
            var parsed = ParseStatus(status, "status");
            rows = rows.Where(w => w.Status == parsed);
        }

        if (name is not null)
        {
            rows = rows.Where(w => w.Name == name);
        }

        var total = await rows.CountAsync(cancellationToken);
        var items = await rows.OrderByDescending(w => w.CreatedAt).ThenByDescending(w => w.Id)
            .Skip((page - 1) * pageSize).Take(pageSize).ToListAsync(cancellationToken);
        var ids = items.Select(w => w.Id).ToList();
        var counts = await db.WorkflowTasks
            .Where(link => ids.Contains(link.WorkflowId))
            .GroupBy(link => link.WorkflowId)
            .Select(g => new { WorkflowId = g.Key, Total = g.Count(), Completed = g.Count(link => link.AgentTask!.Status == AgentTaskStatus.Completed) })
            .ToDictionaryAsync(c => c.WorkflowId, cancellationToken);
        var summaries = items.Select(w => new WorkflowSummary(
                w.Id,
                w.Name,
                w.Description,
                Tasks.TaskView.Parse(w.Definition) ?? default,
                StoreEnum.ToStoreValue(w.Status),
                w.CreatedAt,
                w.UpdatedAt,
                counts.TryGetValue(w.Id, out var c) ? WorkflowProgressView.Of(c.Completed, c.Total) : WorkflowProgressView.Of(0, 0)))
            .ToList();
        return new WorkflowPage(summaries, page, pageSize, total);
    }

    /// <summary>
    /// Moves a workflow along <see cref="WorkflowStateMachine"/>: workflow.status, plus workflow.completed or
    /// workflow.failed (with the error) when moved there by hand. Activating a workflow also derives its progress, so
    /// one whose tasks are all completed (or one failed) completes (or fails) at once.
    /// </summary>
    public Task<WorkflowView> ChangeStatusAsync(Caller caller, string id, ChangeWorkflowStatusRequest? request, CancellationToken cancellationToken)
    {
        RequireWriter(caller);
        if (request is null)
        {
            throw new InvalidInputException("$", "a status change is required");
        }

        var target = ParseStatus(JsonInput.RequiredText(request.Status, "$.status", 20), "$.status");
        var expected = request.ExpectedStatus is null ? (WorkflowStatus?)null : ParseStatus(request.ExpectedStatus, "$.expectedStatus");
        var error = JsonInput.OptionalText(request.Error, "$.error", 10_000);
        if (!_schema.Allows(target))
        {
            throw new InvalidInputException("$.status", $"{StoreEnum.ToStoreValue(target)} cannot be stored: {_schema.Limit(target)}");
        }

        if (target == WorkflowStatus.Failed && string.IsNullOrWhiteSpace(error))
        {
            throw new InvalidInputException("$.error", "is required when the status is failed");
        }

        return _writer.ExecuteAsync(
            async (scope, token) =>
            {
                var workflow = await FindForChangeAsync(scope, caller, id, token);
                if (expected is { } must && workflow.Status != must)
                {
                    throw new ConflictException(
                        $"workflow {id} is {StoreEnum.ToStoreValue(workflow.Status)}, not {StoreEnum.ToStoreValue(must)} as expected; another change came first");
                }

                if (!WorkflowStateMachine.CanMove(workflow.Status, target, _schema.RecordsWorkflowOutcomes))
                {
                    var allowed = WorkflowStateMachine.From(workflow.Status, _schema.RecordsWorkflowOutcomes).Where(_schema.Allows).ToList();
                    throw new ConflictException(
                        $"workflow {id} cannot go from {StoreEnum.ToStoreValue(workflow.Status)} to {StoreEnum.ToStoreValue(target)}; allowed: "
                        + (allowed.Count == 0 ? "none (final)" : string.Join(", ", allowed.Select(StoreEnum.ToStoreValue))));
                }

                var previous = workflow.Status;
                workflow.Status = target;
                scope.Emit(
                    EventTypes.WorkflowStatus,
                    EventPriorities.Normal,
                    new { workflow_id = id, status = StoreEnum.ToStoreValue(target), previous_status = StoreEnum.ToStoreValue(previous), timestamp = scope.Now },
                    workflowId: id);
                switch (target)
                {
                    case WorkflowStatus.Completed:
                        scope.Emit(EventTypes.WorkflowCompleted, EventPriorities.Normal, new { workflow_id = id, timestamp = scope.Now }, workflowId: id);
                        break;
                    case WorkflowStatus.Failed:
                        scope.Emit(EventTypes.WorkflowFailed, EventPriorities.High, new { workflow_id = id, error, timestamp = scope.Now }, workflowId: id);
                        break;
                    case WorkflowStatus.Active:
                        await WorkflowProgress.EmitAsync(scope, id, _schema, token, activated: previous != WorkflowStatus.Active);
                        break;
                    default:
                        break;
                }

                return WorkflowView.From(workflow, await LinksAsync(scope, id, token));
            },
            cancellationToken);
    }

    /// <summary>Adds an existing task at <see cref="AddWorkflowTaskRequest.Sequence"/> (0..n) or at the end.</summary>
    public Task<WorkflowView> AddTaskAsync(Caller caller, string id, AddWorkflowTaskRequest? request, CancellationToken cancellationToken)
    {
        RequireWriter(caller);
        if (request is null)
        {
            throw new InvalidInputException("$", "a task is required");
        }

        var taskId = JsonInput.RequiredText(request.TaskId, "$.taskId", 200);
        if (request.Sequence is < 0)
        {
            throw new InvalidInputException("$.sequence", "must be 0 or more");
        }

        return ChangeTasksAsync(
            caller,
            id,
            async (scope, links, token) =>
            {
                if (links.Any(link => link.TaskId == taskId))
                {
                    throw new ConflictException($"task {taskId} is already in workflow {id}");
                }

                var task = await scope.Db.Tasks.FirstOrDefaultAsync(t => t.Id == taskId, token) ?? throw new NotFoundException("task", taskId);
                if (!caller.IsAdmin && Tasks.TaskService.CreatorOf(task.Metadata) != caller.UserId)
                {
                    throw new ForbiddenException($"task {taskId} was not created by {caller.UserId}; agents add their own tasks to workflows only");
                }

                var position = request.Sequence ?? links.Count;
                if (position > links.Count)
                {
                    throw new InvalidInputException("$.sequence", $"must be from 0 to {links.Count} (the workflow has {links.Count} tasks)");
                }

                var link = new WorkflowTask { WorkflowId = id, TaskId = taskId, Sequence = position, CreatedAt = scope.Now, AgentTask = task };
                scope.Db.WorkflowTasks.Add(link);
                links.Insert(position, link);
            },
            cancellationToken);
    }

    public Task<WorkflowView> RemoveTaskAsync(Caller caller, string id, string taskId, CancellationToken cancellationToken)
    {
        RequireWriter(caller);
        return ChangeTasksAsync(
            caller,
            id,
            (scope, links, _) =>
            {
                var link = links.FirstOrDefault(l => l.TaskId == taskId) ?? throw new NotFoundException($"task of workflow {id}", taskId);
                scope.Db.WorkflowTasks.Remove(link);
                links.Remove(link);
                return Task.CompletedTask;
            },
            cancellationToken);
    }

    /// <summary>Puts the tasks in the given order; the list must hold exactly the workflow's task ids, each once (else 400).</summary>
    public Task<WorkflowView> ReorderTasksAsync(Caller caller, string id, ReorderWorkflowTasksRequest? request, CancellationToken cancellationToken)
    {
        RequireWriter(caller);
        if (request?.TaskIds is not { } taskIds)
        {
            throw new InvalidInputException("$.taskIds", "is required: every task id of the workflow, in the new order");
        }

        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < taskIds.Count; i++)
        {
            if (string.IsNullOrEmpty(taskIds[i]))
            {
                throw new InvalidInputException($"$.taskIds[{i}]", "must be a task id");
            }

            if (!seen.Add(taskIds[i]!))
            {
                throw new InvalidInputException($"$.taskIds[{i}]", $"task {taskIds[i]} appears more than once");
            }
        }

        return ChangeTasksAsync(
            caller,
            id,
            (_, links, _) =>
            {
                var current = links.Select(link => link.TaskId).ToHashSet(StringComparer.Ordinal);
                if (!current.SetEquals(seen))
                {
                    var missing = current.Except(seen).Order(StringComparer.Ordinal).ToList();
                    var unknown = seen.Except(current).Order(StringComparer.Ordinal).ToList();
                    throw new InvalidInputException(
                        "$.taskIds",
                        $"must list exactly the {current.Count} tasks of workflow {id}"
                        + (missing.Count > 0 ? $"; missing: {string.Join(", ", missing)}" : string.Empty)
                        + (unknown.Count > 0 ? $"; not in the workflow: {string.Join(", ", unknown)}" : string.Empty));
                }

                var byId = links.ToDictionary(link => link.TaskId, StringComparer.Ordinal);
                links.Clear();
                links.AddRange(taskIds.Select(taskId => byId[taskId!]));
                return Task.CompletedTask;
            },
            cancellationToken);
    }

    /// <summary>
    /// The frame of every task list change: find the workflow, refuse unless it takes task changes, let
    /// <paramref name="edit"/> change the ordered list of links (and the context), renumber 0..n-1, emit.
    /// </summary>
    private Task<WorkflowView> ChangeTasksAsync(
        Caller caller, string id, Func<ChangeScope, List<WorkflowTask>, CancellationToken, Task> edit, CancellationToken cancellationToken) =>
        _writer.ExecuteAsync(
            async (scope, token) =>
            {
                var workflow = await FindForChangeAsync(scope, caller, id, token);
                if (!WorkflowStateMachine.AcceptsTaskChanges(workflow.Status))
                {
                    throw new ConflictException(
                        $"workflow {id} is {StoreEnum.ToStoreValue(workflow.Status)}; its tasks change only while it is draft, active or paused");
                }

                var links = await LinksAsync(scope, id, token);
                await edit(scope, links, token);
                for (var i = 0; i < links.Count; i++)
                {
                    if (links[i].Sequence != i)
                    {
                        links[i].Sequence = i;
                    }
                }

                scope.Emit(
                    EventTypes.WorkflowTasksChanged,
                    EventPriorities.Normal,
                    new { workflow_id = id, task_ids = links.Select(link => link.TaskId).ToList(), timestamp = scope.Now },
                    workflowId: id);
                await WorkflowProgress.EmitAsync(scope, id, _schema, token);
                return WorkflowView.From(workflow, links);
            },
            cancellationToken);

    /// <summary>The workflow, tracked; 404 when unknown, 403 unless the caller is an admin or the workflow's creator.</summary>
    private static async Task<Workflow> FindForChangeAsync(ChangeScope scope, Caller caller, string id, CancellationToken cancellationToken)
    {
        var workflow = await scope.Db.Workflows.FirstOrDefaultAsync(w => w.Id == id, cancellationToken) ?? throw new NotFoundException("workflow", id);
        if (!caller.IsAdmin)
        {
            var owner = await scope.Db.WorkflowOwners.Where(o => o.WorkflowId == id).Select(o => o.CreatedBy).FirstOrDefaultAsync(cancellationToken);
            if (owner != caller.UserId)
            {
                throw new ForbiddenException(
                    owner is null
                        ? $"workflow {id} was not created through the gateway; only admins change it"
                        : $"workflow {id} was not created by {caller.UserId}; agents change their own workflows only");
            }
        }

        return workflow;
    }

    /// <summary>The workflow's links, tracked, with their tasks, in sequence order (ties by task id, as workflow.progress orders them).</summary>
    private static Task<List<WorkflowTask>> LinksAsync(ChangeScope scope, string id, CancellationToken cancellationToken) =>
        scope.Db.WorkflowTasks.Include(link => link.AgentTask)
            .Where(link => link.WorkflowId == id)
            .OrderBy(link => link.Sequence).ThenBy(link => link.TaskId)
            .ToListAsync(cancellationToken);

    private static void RequireWriter(Caller caller)
    {
        if (!caller.CanWrite)
        {
            throw new ForbiddenException("changing workflows requires the role agent or admin");
        }
    }

    internal static WorkflowStatus ParseStatus(string text, string field) =>
        StoreEnum.StoreValues<WorkflowStatus>().Contains(text, StringComparer.Ordinal)
            ? StoreEnum.FromStoreValue<WorkflowStatus>(text)
            : throw new InvalidInputException(field, $"must be one of {string.Join(", ", StoreEnum.StoreValues<WorkflowStatus>())}");
}
