using System.Text.Json;
using Gateway.Data;
using Gateway.Data.Entities;

namespace Gateway.Server.Events;

/// <summary>
/// What one change sees inside the change writer's transaction: the context to change rows through, the time of the
/// change, and <see cref="Emit"/> to append its events. Rows and events are saved together or not at all.
/// </summary>
internal sealed class ChangeScope
{
    private static readonly JsonSerializerOptions PayloadJson = new(JsonSerializerDefaults.Web)
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        Encoder = Orchestration.JsonInput.Encoder,
    };

    private readonly List<EventLogEntry> _events = [];
    private readonly IEventLog _log;

    public ChangeScope(GatewayDbContext db, DateTime now, IEventLog log)
    {
        Db = db;
        Now = now;
        _log = log;
    }

    public GatewayDbContext Db { get; }

    /// <summary>The change's time, UTC: every timestamp it writes and every event it emits carries this one.</summary>
    public DateTime Now { get; }

    public IReadOnlyList<EventLogEntry> Events => _events;

    /// <summary>Appends an event; its payload is serialised with snake_case names (the orchestrator's vocabulary).</summary>
    public void Emit(string type, int priority, object payload, string? taskId = null, string? workflowId = null, string? executionId = null)
    {
        var entry = new EventLogEntry
        {
            EventType = type,
            Priority = priority,
            TaskId = taskId,
            WorkflowId = workflowId,
            ExecutionId = executionId,
            Payload = JsonSerializer.Serialize(payload, PayloadJson),
            CreatedAt = Now,
        };
        _events.Add(entry);
        _log.Append(Db, entry);
    }
}
