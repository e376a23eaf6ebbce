namespace Gateway.Contracts;

/// <summary>Hub methods for following the event log (on the same hub as <see cref="IGatewayHub"/>).</summary>
public interface IEventSubscriptionHub
{
    /// <summary>
    /// Follows events of a task, workflow, tool execution, or all of them (dashboard or admin). With
    /// <see cref="SubscriptionRequest.AfterEventId"/> the logged events after it are sent first, then live ones, with
    /// no gap and no repeat.
    /// </summary>
    Task<SubscriptionAck> Subscribe(SubscriptionRequest request);

    /// <summary>Stops a subscription. False when there was none with that id.</summary>
    Task<bool> Unsubscribe(string subscriptionId);
}
