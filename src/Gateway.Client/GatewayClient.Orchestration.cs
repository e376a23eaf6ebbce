using Gateway.Contracts;

namespace Gateway.Client;

/// <summary>
/// Tasks, workflows and tool executions over the hub, for connected agents: the same operations, rules and errors as the
/// REST API (refusals are <see cref="GatewayHubException"/>s with <c>not_found</c>, <c>conflict</c>, <c>invalid_argument</c>,
/// <c>forbidden</c>). JSON-valued fields are JSON text.
/// </summary>
public sealed partial class GatewayClient : ITaskHub, IWorkflowHub, IToolExecutionHub
{
    public Task<TaskInfo> CreateTask(CreateTaskCommand command, CancellationToken cancellationToken = default) =>
        InvokeAsync<TaskInfo>(nameof(ITaskHub.CreateTask), [command], cancellationToken);

    public Task<TaskInfo> GetTask(string taskId, CancellationToken cancellationToken = default) =>
        InvokeAsync<TaskInfo>(nameof(ITaskHub.GetTask), [taskId], cancellationToken);

    public Task<TaskInfo> ChangeTaskStatus(string taskId, ChangeTaskStatusCommand command, CancellationToken cancellationToken = default) =>
        InvokeAsync<TaskInfo>(nameof(ITaskHub.ChangeTaskStatus), [taskId, command], cancellationToken);

    public Task<bool> ReportTaskProgress(string taskId, int progress, string? message, CancellationToken cancellationToken = default) =>
        InvokeAsync<bool>(nameof(ITaskHub.ReportTaskProgress), [taskId, progress, message], cancellationToken);

    public Task<bool> DeleteTask(string taskId, CancellationToken cancellationToken = default) =>
        InvokeAsync<bool>(nameof(ITaskHub.DeleteTask), [taskId], cancellationToken);

    public Task<WorkflowInfo> CreateWorkflow(CreateWorkflowCommand command, CancellationToken cancellationToken = default) =>
        InvokeAsync<WorkflowInfo>(nameof(IWorkflowHub.CreateWorkflow), [command], cancellationToken);

    public Task<WorkflowInfo> GetWorkflow(string workflowId, CancellationToken cancellationToken = default) =>
        InvokeAsync<WorkflowInfo>(nameof(IWorkflowHub.GetWorkflow), [workflowId], cancellationToken);

    public Task<WorkflowPageInfo> ListWorkflows(string? status, string? name, int page, int pageSize, CancellationToken cancellationToken = default) =>
        InvokeAsync<WorkflowPageInfo>(nameof(IWorkflowHub.ListWorkflows), [status, name, page, pageSize], cancellationToken);

    public Task<WorkflowInfo> ChangeWorkflowStatus(string workflowId, ChangeWorkflowStatusCommand command, CancellationToken cancellationToken = default) =>
        InvokeAsync<WorkflowInfo>(nameof(IWorkflowHub.ChangeWorkflowStatus), [workflowId, command], cancellationToken);

    public Task<WorkflowInfo> AddWorkflowTask(string workflowId, string taskId, int? sequence, CancellationToken cancellationToken = default) =>
        InvokeAsync<WorkflowInfo>(nameof(IWorkflowHub.AddWorkflowTask), [workflowId, taskId, sequence], cancellationToken);

    public Task<WorkflowInfo> RemoveWorkflowTask(string workflowId, string taskId, CancellationToken cancellationToken = default) =>
        InvokeAsync<WorkflowInfo>(nameof(IWorkflowHub.RemoveWorkflowTask), [workflowId, taskId], cancellationToken);

    public Task<WorkflowInfo> ReorderWorkflowTasks(string workflowId, IReadOnlyList<string> taskIds, CancellationToken cancellationToken = default) =>
        InvokeAsync<WorkflowInfo>(nameof(IWorkflowHub.ReorderWorkflowTasks), [workflowId, taskIds], cancellationToken);

    public Task<ToolExecutionInfo> StartToolExecution(string taskId, StartToolExecutionCommand command, CancellationToken cancellationToken = default) =>
        InvokeAsync<ToolExecutionInfo>(nameof(IToolExecutionHub.StartToolExecution), [taskId, command], cancellationToken);

    public Task<ToolExecutionInfo> GetToolExecution(string executionId, CancellationToken cancellationToken = default) =>
        InvokeAsync<ToolExecutionInfo>(nameof(IToolExecutionHub.GetToolExecution), [executionId], cancellationToken);

    public Task<IReadOnlyList<ToolExecutionInfo>> ListToolExecutions(string taskId, CancellationToken cancellationToken = default) =>
        InvokeAsync<IReadOnlyList<ToolExecutionInfo>>(nameof(IToolExecutionHub.ListToolExecutions), [taskId], cancellationToken);

    public Task<bool> AppendToolOutput(string executionId, string output, bool isStderr, CancellationToken cancellationToken = default) =>
        InvokeAsync<bool>(nameof(IToolExecutionHub.AppendToolOutput), [executionId, output, isStderr], cancellationToken);

    public Task<ToolExecutionInfo> CompleteToolExecution(string executionId, int? exitCode, CancellationToken cancellationToken = default) =>
        InvokeAsync<ToolExecutionInfo>(nameof(IToolExecutionHub.CompleteToolExecution), [executionId, exitCode], cancellationToken);

    public Task<ToolExecutionInfo> FailToolExecution(string executionId, string reason, CancellationToken cancellationToken = default) =>
        InvokeAsync<ToolExecutionInfo>(nameof(IToolExecutionHub.FailToolExecution), [executionId, reason], cancellationToken);

    public Task<ToolExecutionInfo> TimeOutToolExecution(string executionId, CancellationToken cancellationToken = default) =>
        InvokeAsync<ToolExecutionInfo>(nameof(IToolExecutionHub.TimeOutToolExecution), [executionId], cancellationToken);

    // The contract interfaces mirror the hub, whose methods take no token; the public overloads above do.
    Task<TaskInfo> ITaskHub.CreateTask(CreateTaskCommand command) => CreateTask(command);

    Task<TaskInfo> ITaskHub.GetTask(string taskId) => GetTask(taskId);

    Task<TaskInfo> ITaskHub.ChangeTaskStatus(string taskId, ChangeTaskStatusCommand command) => ChangeTaskStatus(taskId, command);

    Task<bool> ITaskHub.ReportTaskProgress(string taskId, int progress, string? message) => ReportTaskProgress(taskId, progress, message);

    Task<bool> ITaskHub.DeleteTask(string taskId) => DeleteTask(taskId);

    Task<WorkflowInfo> IWorkflowHub.CreateWorkflow(CreateWorkflowCommand command) => CreateWorkflow(command);

    Task<WorkflowInfo> IWorkflowHub.GetWorkflow(string workflowId) => GetWorkflow(workflowId);

    Task<WorkflowPageInfo> IWorkflowHub.ListWorkflows(string? status, string? name, int page, int pageSize) => ListWorkflows(status, name, page, pageSize);

    Task<WorkflowInfo> IWorkflowHub.ChangeWorkflowStatus(string workflowId, ChangeWorkflowStatusCommand command) => ChangeWorkflowStatus(workflowId, command);

    Task<WorkflowInfo> IWorkflowHub.AddWorkflowTask(string workflowId, string taskId, int? sequence) => AddWorkflowTask(workflowId, taskId, sequence);

    Task<WorkflowInfo> IWorkflowHub.RemoveWorkflowTask(string workflowId, string taskId) => RemoveWorkflowTask(workflowId, taskId);

    Task<WorkflowInfo> IWorkflowHub.ReorderWorkflowTasks(string workflowId, IReadOnlyList<string> taskIds) => ReorderWorkflowTasks(workflowId, taskIds);

    Task<ToolExecutionInfo> IToolExecutionHub.StartToolExecution(string taskId, StartToolExecutionCommand command) => StartToolExecution(taskId, command);

    Task<ToolExecutionInfo> IToolExecutionHub.GetToolExecution(string executionId) => GetToolExecution(executionId);

    Task<IReadOnlyList<ToolExecutionInfo>> IToolExecutionHub.ListToolExecutions(string taskId) => ListToolExecutions(taskId);

    Task<bool> IToolExecutionHub.AppendToolOutput(string executionId, string output, bool isStderr) => AppendToolOutput(executionId, output, isStderr);

    Task<ToolExecutionInfo> IToolExecutionHub.CompleteToolExecution(string executionId, int? exitCode) => CompleteToolExecution(executionId, exitCode);

    Task<ToolExecutionInfo> IToolExecutionHub.FailToolExecution(string executionId, string reason) => FailToolExecution(executionId, reason);

    Task<ToolExecutionInfo> IToolExecutionHub.TimeOutToolExecution(string executionId) => TimeOutToolExecution(executionId);
}
