using MessagePack;

namespace Gateway.Contracts;

/// <summary>One step of a workflow over the hub.</summary>
[MessagePackObject]
public sealed record WorkflowTaskInfo(
    [property: Key("taskId")] string TaskId,
    [property: Key("sequence")] int Sequence,
    [property: Key("title")] string Title,
    [property: Key("status")] string Status);

/// <summary>completed / total tasks of a workflow, and the percentage workflow.progress reports.</summary>
[MessagePackObject]
public sealed record WorkflowProgressInfo(
    [property: Key("completed")] int Completed,
    [property: Key("total")] int Total,
    [property: Key("percent")] int Percent);

/// <summary>A workflow over the hub, with its tasks in sequence order. The definition travels as JSON text.</summary>
[MessagePackObject]
public sealed record WorkflowInfo(
    [property: Key("id")] string Id,
    [property: Key("name")] string Name,
    [property: Key("description")] string? Description,
    [property: Key("definition")] string Definition,
    [property: Key("status")] string Status,
    [property: Key("createdAt")] DateTime CreatedAt,
    [property: Key("updatedAt")] DateTime UpdatedAt,
    [property: Key("progress")] WorkflowProgressInfo Progress,
    [property: Key("tasks")] IReadOnlyList<WorkflowTaskInfo> Tasks);

/// <summary>A workflow in a list: everything but its tasks.</summary>
[MessagePackObject]
public sealed record WorkflowSummaryInfo(
    [property: Key("id")] string Id,
    [property: Key("name")] string Name,
    [property: Key("description")] string? Description,
    [property: Key("definition")] string Definition,
    [property: Key("status")] string Status,
    [property: Key("createdAt")] DateTime CreatedAt,
    [property: Key("updatedAt")] DateTime UpdatedAt,
    [property: Key("progress")] WorkflowProgressInfo Progress);

/// <summary>One page of workflows, newest first.</summary>
[MessagePackObject]
public sealed record WorkflowPageInfo(
    [property: Key("items")] IReadOnlyList<WorkflowSummaryInfo> Items,
    [property: Key("page")] int Page,
    [property: Key("pageSize")] int PageSize,
    [property: Key("total")] int Total);

/// <param name="Definition">Required: a JSON object as text.</param>
[MessagePackObject]
public sealed record CreateWorkflowCommand(
    [property: Key("name")] string Name,
    [property: Key("definition")] string Definition,
    [property: Key("description")] string? Description = null,
    [property: Key("id")] string? Id = null);

/// <param name="ExpectedStatus">Refuse (conflict) unless the workflow is in this status now.</param>
/// <param name="Error">Required with failed; carried by workflow.failed.</param>
[MessagePackObject]
public sealed record ChangeWorkflowStatusCommand(
    [property: Key("status")] string Status,
    [property: Key("expectedStatus")] string? ExpectedStatus = null,
    [property: Key("error")] string? Error = null);

/// <summary>
/// Hub methods for workflows. Reads: any role. Changes: agent or admin (any workflow; dashboards read only).
/// Status changes: draft → active | archived; active → paused | completed | failed | cancelled; paused → active |
/// cancelled; completed | failed | cancelled → archived; archived is final. The task list changes only while draft,
/// active or paused. Errors carry <see cref="HubErrorCodes"/>.
/// </summary>
public interface IWorkflowHub
{
    Task<WorkflowInfo> CreateWorkflow(CreateWorkflowCommand command);

    Task<WorkflowInfo> GetWorkflow(string workflowId);

    /// <param name="status">Only workflows in this status; null for all.</param>
    /// <param name="name">Only workflows with exactly this name; null for all.</param>
    /// <param name="page">From 1.</param>
    /// <param name="pageSize">From 1 to 500.</param>
    Task<WorkflowPageInfo> ListWorkflows(string? status, string? name, int page, int pageSize);

    Task<WorkflowInfo> ChangeWorkflowStatus(string workflowId, ChangeWorkflowStatusCommand command);

    /// <param name="sequence">Where to insert (0 = first); null appends.</param>
    Task<WorkflowInfo> AddWorkflowTask(string workflowId, string taskId, int? sequence);

    Task<WorkflowInfo> RemoveWorkflowTask(string workflowId, string taskId);

    /// <param name="taskIds">Exactly the workflow's task ids, each once, in the new order.</param>
    Task<WorkflowInfo> ReorderWorkflowTasks(string workflowId, IReadOnlyList<string> taskIds);
}
