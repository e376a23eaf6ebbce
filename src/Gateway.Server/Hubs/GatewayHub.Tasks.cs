using Gateway.Contracts;
using Gateway.Server.Orchestration;
using Gateway.Server.Orchestration.Tasks;

namespace Gateway.Server.Hubs;

/// <summary>Task methods (<see cref="ITaskHub"/>): the same service as the REST API.</summary>
internal sealed partial class GatewayHub
{
    public async Task<TaskInfo> CreateTask(CreateTaskCommand command) =>
        TaskHubMapping.ToInfo(await _tasks.CreateAsync(Caller.From(Context.User), TaskHubMapping.FromCommand(command), Context.ConnectionAborted));

    public async Task<TaskInfo> GetTask(string taskId) => TaskHubMapping.ToInfo(await _tasks.GetAsync(taskId, Context.ConnectionAborted));

    public async Task<TaskInfo> ChangeTaskStatus(string taskId, ChangeTaskStatusCommand command) =>
        TaskHubMapping.ToInfo(await _tasks.ChangeStatusAsync(Caller.From(Context.User), taskId, TaskHubMapping.FromCommand(command), Context.ConnectionAborted));

    public Task<bool> ReportTaskProgress(string taskId, int progress, string? message) =>
        _tasks.ReportProgressAsync(Caller.From(Context.User), taskId, new TaskProgressRequest(progress, message), Context.ConnectionAborted);

    public Task<bool> DeleteTask(string taskId) => _tasks.DeleteAsync(Caller.From(Context.User), taskId, Context.ConnectionAborted);
}
