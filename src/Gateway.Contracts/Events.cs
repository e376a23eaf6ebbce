using MessagePack;

namespace Gateway.Contracts;

/// <summary>Event names: the orchestrator's vocabulary, plus the lifecycle events Gateway adds (created, deleted).</summary>
public static class EventTypes
{
    public const string TaskCreated = "task.created";
    public const string TaskStatus = "task.status";
    public const string TaskProgress = "task.progress";
    public const string TaskCompleted = "task.completed";
    public const string TaskFailed = "task.failed";
    public const string TaskDeleted = "task.deleted";
    public const string ToolStarted = "tool.started";
    public const string ToolOutput = "tool.output";
    public const string ToolCompleted = "tool.completed";
    public const string ToolFailed = "tool.failed";
    public const string WorkflowCreated = "workflow.created";
    public const string WorkflowStatus = "workflow.status";
    public const string WorkflowTasksChanged = "workflow.tasks_changed";
    public const string WorkflowProgress = "workflow.progress";
    public const string WorkflowCompleted = "workflow.completed";
    public const string WorkflowFailed = "workflow.failed";
    public const string ConfigChanged = "config.changed";
    public const string ConfigDeleted = "config.deleted";

    /// <summary>An admin read a secret's value (the event never holds the value).</summary>
    public const string ConfigSecretRevealed = "config.secret_revealed";
}

/// <summary>Priorities, as the orchestrator planned: failures high; completions, status, tool start normal; progress and output low.</summary>
public static class EventPriorities
{
    public const int Low = 0;
    public const int Normal = 1;
    public const int High = 2;
}

/// <summary>
/// One entry of the event log, as subscribers receive it (target <c>EventReceived</c>). <see cref="Id"/> is global and strictly
/// increasing; within one subscription ids arrive in order, without gaps (for the subscription's filter) or repeats.
/// </summary>
/// <param name="Payload">The event's fields as a JSON object, in the orchestrator's snake_case names.</param>
[MessagePackObject]
public sealed record GatewayEvent(
    [property: Key("subscriptionId")] string SubscriptionId,
    [property: Key("id")] long Id,
    [property: Key("type")] string Type,
    [property: Key("priority")] int Priority,
    [property: Key("taskId")] string? TaskId,
    [property: Key("workflowId")] string? WorkflowId,
    [property: Key("executionId")] string? ExecutionId,
    [property: Key("payload")] string Payload,
    [property: Key("timestamp")] DateTime Timestamp);

/// <summary>What a subscription follows.</summary>
public static class SubscriptionScopes
{
    /// <summary>Every event (dashboard or admin role).</summary>
    public const string All = "all";
    public const string Task = "task";
    public const string Workflow = "workflow";
    public const string ToolExecution = "tool_execution";
}

/// <summary>The argument of <c>Subscribe</c>.</summary>
/// <param name="Scope">One of <see cref="SubscriptionScopes"/>.</param>
/// <param name="Id">The task, workflow or tool execution id; null for <see cref="SubscriptionScopes.All"/>.</param>
/// <param name="Types">Only these event types; null or empty for all.</param>
/// <param name="MinPriority">Only events of at least this priority (<see cref="EventPriorities"/>).</param>
/// <param name="AfterEventId">Replay the logged events after this id first, then go live; null to start live.</param>
/// <param name="SubscriptionId">
/// The client's own id for this subscription (1-64 characters, unique on the connection), so it can route events
/// that arrive before the answer to Subscribe; null to let the gateway choose one.
/// </param>
/// <param name="Epoch">
/// The <see cref="SubscriptionAck.Epoch"/> that came with <paramref name="AfterEventId"/>: a position from a log with
/// another epoch (another database) is answered with a reset, never a partial replay. Null: not checked.
/// </param>
[MessagePackObject]
public sealed record SubscriptionRequest(
    [property: Key("scope")] string Scope,
    [property: Key("id")] string? Id = null,
    [property: Key("types")] IReadOnlyList<string>? Types = null,
    [property: Key("minPriority")] int MinPriority = EventPriorities.Low,
    [property: Key("afterEventId")] long? AfterEventId = null,
    [property: Key("subscriptionId")] string? SubscriptionId = null,
    [property: Key("epoch")] string? Epoch = null);

/// <summary>
/// The answer to <c>Subscribe</c>. When <see cref="Reset"/> is true the requested position is older than the log's
/// retention: events were lost to the client, which should reload state; the subscription is live from
/// <see cref="HeadEventId"/>. <see cref="Epoch"/> identifies the log the ids belong to: send it back with a resume
/// position.
/// </summary>
[MessagePackObject]
public sealed record SubscriptionAck(
    [property: Key("subscriptionId")] string SubscriptionId,
    [property: Key("headEventId")] long HeadEventId,
    [property: Key("reset")] bool Reset,
    [property: Key("epoch")] string? Epoch = null);
