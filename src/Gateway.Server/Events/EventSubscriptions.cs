using Gateway.Contracts;
using Gateway.Data;
using Gateway.Server.Hubs;
using Gateway.Server.Sessions;
using Microsoft.AspNetCore.SignalR;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Gateway.Server.Events;

/// <summary>Subscribe / Unsubscribe for hub connections: validation, roles, replay from the log, then live.</summary>
internal sealed partial class EventSubscriptions
{
    private readonly EventBroadcaster _broadcaster;
    private readonly EventLogFollower _follower;
    private readonly IEventLog _log;
    private readonly IHubContext<GatewayHub, IGatewayClient> _hub;
    private readonly RealtimeStats _stats;
    private readonly Metrics.GatewayMetrics _metrics;
    private readonly TimeProvider _time;
    private readonly EventOptions _options;
    private readonly ILogger<EventSubscriptions> _logger;

    public EventSubscriptions(
        EventBroadcaster broadcaster,
        EventLogFollower follower,
        IEventLog log,
        IHubContext<GatewayHub, IGatewayClient> hub,
        RealtimeStats stats,
        Metrics.GatewayMetrics metrics,
        TimeProvider time,
        IOptions<EventOptions> options,
        ILogger<EventSubscriptions> logger)
    {
        _metrics = metrics;
        _time = time;
        _broadcaster = broadcaster;
        _follower = follower;
        _log = log;
        _hub = hub;
        _stats = stats;
        _options = options.Value;
        _logger = logger;
    }

    public async Task<SubscriptionAck> SubscribeAsync(HubCallerContext context, SubscriptionRequest? request, CancellationToken cancellationToken)
    {
        Validate(context, request);
        var stream = _broadcaster.StreamOf(
            context.ConnectionId,
            () => new ConnectionEventStream(
                context.ConnectionId,
                context.HubConnection(),
                EventQueueLimits.From(_options), _hub, _stats, _metrics, _time, () => FellBehind(context), _logger));
        if (stream.Count >= _options.MaxSubscriptionsPerConnection)
        {
            throw new HubException($"{HubErrorCodes.InvalidArgument}: at most {_options.MaxSubscriptionsPerConnection} subscriptions per connection");
        }

        var subscriptionId = request!.SubscriptionId ?? Guid.NewGuid().ToString("N");
        if (stream.Has(subscriptionId))
        {
            throw new HubException($"{HubErrorCodes.InvalidArgument}: this connection already has a subscription {subscriptionId}");
        }

        if (request.AfterEventId > _broadcaster.Head)
        {
            // A position another node handed out that this node has not published yet: read the log now, rather
            // than take it for a position from another database.
            await _follower.CatchUpAsync(cancellationToken);
        }

        var subscription = new EventSubscription(subscriptionId, request, seesConfiguration: context.User?.IsInRole(GatewayRoles.Admin) == true)
        {
            HeldBack = request!.AfterEventId is null ? null : [],
            LastQueuedId = request.AfterEventId ?? 0,
        };
        var head = _broadcaster.Register(stream, subscription);
        if (request.AfterEventId is not { } afterEventId)
        {
            return new SubscriptionAck(subscription.Id, head, Reset: false, _follower.Epoch);
        }

        bool reset;
        try
        {
            reset = await IsOlderThanRetentionAsync(afterEventId, request.Epoch, head, cancellationToken);
            if (reset)
            {
                subscription.LastQueuedId = head;
            }
            else
            {
                await ReplayAsync(stream, subscription, afterEventId, head, cancellationToken);
            }
        }
        catch
        {
            // A failed subscribe leaves nothing behind: registered, it would hold back every live event for as long as
            // the connection lasts and refuse the client's retry under the same id.
            _broadcaster.Unregister(context.ConnectionId, subscription.Id);
            throw;
        }

        _broadcaster.GoLive(stream, subscription);
        LogSubscribed(context.ConnectionId, subscription.Id, subscription.Scope, afterEventId, reset);
        return new SubscriptionAck(subscription.Id, head, reset, _follower.Epoch);
    }

    private static void FellBehind(HubCallerContext context)
    {
        context.LiveConnection()?.TrySetCloseReason(CloseReasons.FellBehind);
        context.Abort();
    }

    public bool Unsubscribe(string connectionId, string subscriptionId) => _broadcaster.Unregister(connectionId, subscriptionId);

    public void Disconnected(string connectionId) => _broadcaster.Remove(connectionId);

    private static void Validate(HubCallerContext context, SubscriptionRequest? request)
    {
        if (request is null)
        {
            throw new HubException($"{HubErrorCodes.InvalidArgument}: a subscription request is required");
        }

        string[] scopes = [SubscriptionScopes.All, SubscriptionScopes.Task, SubscriptionScopes.Workflow, SubscriptionScopes.ToolExecution];
        if (!scopes.Contains(request.Scope, StringComparer.Ordinal))
        {
            throw new HubException($"{HubErrorCodes.InvalidArgument}: scope must be one of {string.Join(", ", scopes)}");
        }

        if (request.Scope == SubscriptionScopes.All)
        {
            if (context.User?.IsInRole(GatewayRoles.Admin) != true && context.User?.IsInRole(GatewayRoles.Dashboard) != true)
            {
                throw new HubException($"{HubErrorCodes.Forbidden}: subscribing to every event requires the role dashboard or admin");
            }
        }
        else if (string.IsNullOrWhiteSpace(request.Id))
        {
            throw new HubException($"{HubErrorCodes.InvalidArgument}: id is required for scope {request.Scope}");
        }
        else if (request.Id.Length > 200 || request.Id.Any(char.IsControl) || !Orchestration.JsonInput.IsValidUtf16(request.Id))
        {
            throw new HubException($"{HubErrorCodes.InvalidArgument}: id must be at most 200 printable characters");
        }

        if (request.Types is { } types && (types.Count > 64 || types.Any(type => string.IsNullOrEmpty(type) || type.Length > 100 || type.Any(char.IsControl) || !Orchestration.JsonInput.IsValidUtf16(type))))
        {
            throw new HubException($"{HubErrorCodes.InvalidArgument}: types must be at most 64 event types of 1 to 100 printable characters");
        }

        if (request.MinPriority is < EventPriorities.Low or > EventPriorities.High)
        {
            throw new HubException($"{HubErrorCodes.InvalidArgument}: minPriority must be 0 (low), 1 (normal) or 2 (high)");
        }

        if (request.SubscriptionId is { } chosen && (chosen.Length is 0 or > 64 || chosen.Any(char.IsControl) || !Orchestration.JsonInput.IsValidUtf16(chosen)))
        {
            throw new HubException($"{HubErrorCodes.InvalidArgument}: subscriptionId must be 1 to 64 printable characters");
        }

        if (request.AfterEventId is < 0)
        {
            throw new HubException($"{HubErrorCodes.InvalidArgument}: afterEventId must be 0 or more");
        }

        if (request.Epoch is { } epoch && (epoch.Length is 0 or > 64 || epoch.Any(char.IsControl) || !Orchestration.JsonInput.IsValidUtf16(epoch)))
        {
            throw new HubException($"{HubErrorCodes.InvalidArgument}: epoch must be 1 to 64 printable characters, as a previous ack gave it");
        }
    }

    /// <summary>
    /// Whether the events after a position are no longer all in this log: a position from another log (another epoch,
    /// or past the head), or one below the retention floor (pruning deletes a prefix of ids and records where it ended).
    /// </summary>
    private async Task<bool> IsOlderThanRetentionAsync(long afterEventId, string? epoch, long head, CancellationToken cancellationToken)
    {
        if (afterEventId > head || (epoch is not null && _follower.Epoch is { } current && epoch != current))
        {
            // A position this log never had (another database, or one restored from an older backup).
            return true;
        }

        if (afterEventId == head)
        {
            return false;
        }

        var floor = (await _log.StateAsync(cancellationToken)).RetentionFloor;
        return afterEventId < floor;
    }

    private async Task ReplayAsync(ConnectionEventStream stream, EventSubscription subscription, long afterEventId, long head, CancellationToken cancellationToken)
    {
        var position = afterEventId;
        while (position < head)
        {
            var page = await _log.ReadAfterAsync(
                new EventLogRead(position, _options.ReplayPageBytes, head, subscription.MinPriority, subscription.Scope, subscription.SubjectId), cancellationToken);
            if (page.Count == 0)
            {
                break;
            }

            foreach (var entry in page.Where(subscription.Matches))
            {
                if (!await stream.EnqueueReplayedAsync(subscription, entry, cancellationToken))
                {
                    return;
                }
            }

            position = page[^1].Id;
        }
    }

    [LoggerMessage(EventId = 4201, Level = LogLevel.Debug, Message = "Connection {ConnectionId} subscribed {SubscriptionId} to {Scope} after {AfterEventId} (reset: {Reset})")]
    private partial void LogSubscribed(string connectionId, string subscriptionId, string scope, long afterEventId, bool reset);
}
