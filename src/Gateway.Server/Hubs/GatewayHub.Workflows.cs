using Gateway.Contracts;
using Gateway.Server.Orchestration;
using Gateway.Server.Orchestration.Workflows;
using Microsoft.AspNetCore.Mvc;

namespace Gateway.Server.Hubs;

/// <summary>
/// Workflow methods (<see cref="IWorkflowHub"/>): the same service as the REST API, injected per invocation (a
/// [FromServices] parameter is not a wire argument), so the hub's constructor stays as it is.
/// </summary>
internal sealed partial class GatewayHub
{
    public async Task<WorkflowInfo> CreateWorkflow(CreateWorkflowCommand command, [FromServices] WorkflowService workflows) =>
        WorkflowHubMapping.ToInfo(await workflows.CreateAsync(Caller.From(Context.User), WorkflowHubMapping.FromCommand(command), Context.ConnectionAborted));

    public async Task<WorkflowInfo> GetWorkflow(string workflowId, [FromServices] WorkflowService workflows) =>
        WorkflowHubMapping.ToInfo(await workflows.GetAsync(workflowId, Context.ConnectionAborted));

    public async Task<WorkflowPageInfo> ListWorkflows(string? status, string? name, int page, int pageSize, [FromServices] WorkflowService workflows) =>
        WorkflowHubMapping.ToInfo(await workflows.ListAsync(status, name, page, pageSize, Context.ConnectionAborted));

    public async Task<WorkflowInfo> ChangeWorkflowStatus(string workflowId, ChangeWorkflowStatusCommand command, [FromServices] WorkflowService workflows) =>
        WorkflowHubMapping.ToInfo(await workflows.ChangeStatusAsync(
            Caller.From(Context.User), workflowId, WorkflowHubMapping.FromCommand(command), Context.ConnectionAborted));

    public async Task<WorkflowInfo> AddWorkflowTask(string workflowId, string taskId, int? sequence, [FromServices] WorkflowService workflows) =>
        WorkflowHubMapping.ToInfo(await workflows.AddTaskAsync(
            Caller.From(Context.User), workflowId, new AddWorkflowTaskRequest(taskId, sequence), Context.ConnectionAborted));

    public async Task<WorkflowInfo> RemoveWorkflowTask(string workflowId, string taskId, [FromServices] WorkflowService workflows) =>
        WorkflowHubMapping.ToInfo(await workflows.RemoveTaskAsync(Caller.From(Context.User), workflowId, taskId, Context.ConnectionAborted));

    public async Task<WorkflowInfo> ReorderWorkflowTasks(string workflowId, IReadOnlyList<string> taskIds, [FromServices] WorkflowService workflows) =>
        WorkflowHubMapping.ToInfo(await workflows.ReorderTasksAsync(
            Caller.From(Context.User), workflowId, new ReorderWorkflowTasksRequest(taskIds), Context.ConnectionAborted));
}
