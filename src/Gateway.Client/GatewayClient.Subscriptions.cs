using Gateway.Contracts;
using Microsoft.AspNetCore.SignalR.Client;

namespace Gateway.Client;

/// <summary>A subscription to the event log, kept by the client across reconnects.</summary>
public sealed class GatewaySubscription
{
    internal GatewaySubscription(string id, SubscriptionRequest request, Func<GatewayEvent, Task> onEvent, Func<SubscriptionAck, Task>? onReset)
    {
        Id = id;
        Request = request;
        OnEvent = onEvent;
        OnReset = onReset;
    }

    /// <summary>The client's id of the subscription, the same on every connection.</summary>
    public string Id { get; }

    public SubscriptionRequest Request { get; }

    /// <summary>The id of the newest event handed to the handler; a resume starts after it.</summary>
    public long? LastEventId { get; internal set; }

    /// <summary>The epoch of the log <see cref="LastEventId"/> belongs to (the gateway's last ack); sent with every resume.</summary>
    public string? Epoch { get; internal set; }

    internal Func<GatewayEvent, Task> OnEvent { get; }

    internal Func<SubscriptionAck, Task>? OnReset { get; }
}

public sealed partial class GatewayClient
{
    private readonly Dictionary<string, GatewaySubscription> _subscriptions = new(StringComparer.Ordinal);
    private IDisposable? _eventRegistration;

    /// <summary>
    /// Follows events (see <see cref="IEventSubscriptionHub.Subscribe"/>). The client remembers the last event id it
    /// handed to <paramref name="onEvent"/> and, after every reconnect, subscribes again after that id: the handler sees
    /// every event once, in id order, across reconnects and server restarts. When the gateway answers that the position
    /// is older than its log, <paramref name="onReset"/> runs (reload your state) and the subscription continues live.
    /// Handlers run one at a time on the client's event task.
    /// </summary>
    /// <summary>
    /// An id derived from what the subscription follows (scope, subject, filters), the same in every client, with a
    /// suffix only when this client already follows the same thing. Every client following one task the same way then
    /// gets byte-identical events, which the gateway serialises once for all of them instead of once per client.
    /// Called under the lock.
    /// </summary>
    private string DerivedSubscriptionId(SubscriptionRequest request)
    {
        var shape = string.Join(
            '\n',
            request.Scope,
            request.Id ?? string.Empty,
            request.MinPriority.ToString(System.Globalization.CultureInfo.InvariantCulture),
            string.Join(',', (request.Types ?? []).Order(StringComparer.Ordinal)));
        var derived = "s-" + Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(shape)))[..24];
        var id = derived;
        for (var n = 2; _subscriptions.ContainsKey(id); n++)
        {
            id = $"{derived}-{n}";
        }

        return id;
    }

    public async Task<GatewaySubscription> SubscribeAsync(
        SubscriptionRequest request, Func<GatewayEvent, Task> onEvent, Func<SubscriptionAck, Task>? onReset = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(onEvent);
        GatewaySubscription subscription;
        lock (_gate)
        {
            subscription = new GatewaySubscription(request.SubscriptionId ?? DerivedSubscriptionId(request), request, onEvent, onReset)
            {
                LastEventId = request.AfterEventId,
                Epoch = request.Epoch,
            };
            _eventRegistration ??= On<GatewayEvent>(nameof(IGatewayClient.EventReceived), DispatchEventAsync);
            _subscriptions[subscription.Id] = subscription;
        }

        try
        {
            var ack = await InvokeAsync<SubscriptionAck>(
                nameof(IEventSubscriptionHub.Subscribe), [request with { SubscriptionId = subscription.Id }], cancellationToken);
            await AcknowledgeAsync(subscription, ack);
        }
        catch
        {
            lock (_gate)
            {
                _subscriptions.Remove(subscription.Id);
            }

            throw;
        }

        return subscription;
    }

    /// <summary>Stops a subscription here and on the gateway.</summary>
    public async Task UnsubscribeAsync(GatewaySubscription subscription, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(subscription);
        lock (_gate)
        {
            _subscriptions.Remove(subscription.Id);
        }

        await InvokeAsync<bool>(nameof(IEventSubscriptionHub.Unsubscribe), [subscription.Id], cancellationToken);
    }

    private bool HasEventSubscriptions
    {
        get
        {
            lock (_gate)
            {
                return _subscriptions.Count > 0;
            }
        }
    }

    private Task DispatchEventAsync(GatewayEvent gatewayEvent)
    {
        GatewaySubscription? subscription;
        lock (_gate)
        {
            _subscriptions.TryGetValue(gatewayEvent.SubscriptionId, out subscription);
            // The one guard against a repeat across a reconnect: the resume starts after the last id handled.
            if (subscription is null || gatewayEvent.Id <= subscription.LastEventId)
            {
                return Task.CompletedTask;
            }

            subscription.LastEventId = gatewayEvent.Id;
        }

        return subscription.OnEvent(gatewayEvent);
    }

    private async Task AcknowledgeAsync(GatewaySubscription subscription, SubscriptionAck ack)
    {
        lock (_gate)
        {
            // A live start, or a reset: the subscription is live from the head the gateway answered with. (Not after a
            // replay: replayed events at or below the head may still be on their way to the handler.)
            if (subscription.LastEventId is null || ack.Reset)
            {
                // Lowering the guard to the head is safe: the gateway never sends an event twice on one subscription.
                subscription.LastEventId = ack.HeadEventId;
            }

            // The log the ids belong to, sent back with the next resume (a gateway without epochs answers none).
            subscription.Epoch = ack.Epoch ?? subscription.Epoch;
        }

        if (ack.Reset && subscription.OnReset is { } onReset)
        {
            await onReset(ack);
        }
    }

    /// <summary>
    /// After a reconnect: every subscription again, after the last event it handled. True when one failed and the client
    /// reconnects once more (<see cref="ReconnectAfterFailedResubscribe"/>).
    /// </summary>
    private async Task<bool> ResubscribeEventsAsync(Run run)
    {
        List<GatewaySubscription> subscriptions;
        lock (_gate)
        {
            subscriptions = [.. _subscriptions.Values];
        }

        foreach (var subscription in subscriptions)
        {
            try
            {
                var ack = await run.Connection.InvokeCoreAsync<SubscriptionAck>(
                    nameof(IEventSubscriptionHub.Subscribe),
                    [subscription.Request with { SubscriptionId = subscription.Id, AfterEventId = subscription.LastEventId, Epoch = subscription.Epoch }],
                    _lifetime.Token);
                await AcknowledgeAsync(subscription, ack);
            }
            catch (Exception exception) when (exception is not OutOfMemoryException)
            {
                if (ReconnectAfterFailedResubscribe(run, exception))
                {
                    return true;
                }
            }
        }

        return false;
    }
}
