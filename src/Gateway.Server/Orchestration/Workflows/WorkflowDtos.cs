using System.Text.Json;
using Gateway.Contracts;
using Gateway.Data.Conversion;
using Gateway.Data.Entities;
using Gateway.Server.Events;
using Gateway.Server.Orchestration.Tasks;

namespace Gateway.Server.Orchestration.Workflows;

/// <summary>One step of a workflow: the task, its position (0..n-1) and its title and status now.</summary>
public sealed record WorkflowTaskView(string TaskId, int Sequence, string Title, string Status);

/// <summary>completed / total tasks; <see cref="Percent"/> rounded as workflow.progress rounds it (0 without tasks).</summary>
public sealed record WorkflowProgressView(int Completed, int Total, int Percent)
{
    internal static WorkflowProgressView Of(int completed, int total) =>
        new(completed, total, total == 0 ? 0 : (int)Math.Round(100.0 * completed / total));
}

/// <summary>A workflow as the API shows it, with its tasks in sequence order. The definition is returned as JSON.</summary>
public sealed record WorkflowView(
    string Id,
    string Name,
    string? Description,
    JsonElement Definition,
    string Status,
    DateTime CreatedAt,
    DateTime UpdatedAt,
    WorkflowProgressView Progress,
    IReadOnlyList<WorkflowTaskView> Tasks)
{
    /// <param name="links">The workflow's links in sequence order, each with its task loaded.</param>
    internal static WorkflowView From(Workflow workflow, IReadOnlyList<WorkflowTask> links)
    {
        var tasks = links
            .Select(link => new WorkflowTaskView(link.TaskId, link.Sequence, link.AgentTask?.Title ?? string.Empty, link.AgentTask is { } task ? StoreEnum.ToStoreValue(task.Status) : "unknown"))
            .ToList();
        return new(
            workflow.Id,
            workflow.Name,
            workflow.Description,
            TaskView.Parse(workflow.Definition) ?? default,
            StoreEnum.ToStoreValue(workflow.Status),
            workflow.CreatedAt,
            workflow.UpdatedAt,
            WorkflowProgressView.Of(links.Count(link => link.AgentTask?.Status == AgentTaskStatus.Completed), links.Count),
            tasks);
    }
}

/// <summary>A workflow in a list: everything but its tasks.</summary>
public sealed record WorkflowSummary(
    string Id,
    string Name,
    string? Description,
    JsonElement Definition,
    string Status,
    DateTime CreatedAt,
    DateTime UpdatedAt,
    WorkflowProgressView Progress);

public sealed record WorkflowPage(IReadOnlyList<WorkflowSummary> Items, int Page, int PageSize, int Total);

/// <param name="Definition">Required: any JSON object; stored as given (Gateway adds nothing to it).</param>
/// <param name="Id">Optional: a UUID of the caller's choosing, so that the create sent again is refused (409), never applied twice.</param>
public sealed record CreateWorkflowRequest(string? Name, string? Description, JsonElement? Definition, string? Id = null);

/// <param name="ExpectedStatus">Optional: refuse (409) unless the workflow is in this status now (a compare-and-set).</param>
/// <param name="Error">Required when moving to failed; carried by workflow.failed (workflows have no error column).</param>
public sealed record ChangeWorkflowStatusRequest(string? Status, string? ExpectedStatus = null, string? Error = null);

/// <param name="Sequence">Where to insert (0 = first); omitted: appended. The others move down to keep 0..n-1.</param>
public sealed record AddWorkflowTaskRequest(string? TaskId, int? Sequence = null);

/// <param name="TaskIds">Every task id of the workflow, each once, in the new order.</param>
public sealed record ReorderWorkflowTasksRequest(IReadOnlyList<string?>? TaskIds);

/// <summary>Hub shapes: the definition as JSON text.</summary>
internal static class WorkflowHubMapping
{
    public static WorkflowInfo ToInfo(WorkflowView view) => new(
        view.Id,
        view.Name,
        view.Description,
        view.Definition.GetRawText(),
        view.Status,
        view.CreatedAt,
        view.UpdatedAt,
        ToInfo(view.Progress),
        view.Tasks.Select(task => new WorkflowTaskInfo(task.TaskId, task.Sequence, task.Title, task.Status)).ToList());

    public static WorkflowPageInfo ToInfo(WorkflowPage page) => new(
        page.Items.Select(item => new WorkflowSummaryInfo(
            item.Id, item.Name, item.Description, item.Definition.GetRawText(), item.Status, item.CreatedAt, item.UpdatedAt, ToInfo(item.Progress))).ToList(),
        page.Page,
        page.PageSize,
        page.Total);

    public static CreateWorkflowRequest FromCommand(CreateWorkflowCommand? command) =>
        command is null
            ? throw new InvalidInputException("$", "a workflow is required")
            : new(command.Name, command.Description, TaskHubMapping.ParseJson(command.Definition, "$.definition"), command.Id);

    public static ChangeWorkflowStatusRequest FromCommand(ChangeWorkflowStatusCommand? command) =>
        command is null
            ? throw new InvalidInputException("$", "a status change is required")
            : new(command.Status, command.ExpectedStatus, command.Error);

    private static WorkflowProgressInfo ToInfo(WorkflowProgressView progress) => new(progress.Completed, progress.Total, progress.Percent);
}
