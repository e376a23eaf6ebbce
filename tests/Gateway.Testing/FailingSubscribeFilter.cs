using Gateway.Contracts;
using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.DependencyInjection;

namespace Gateway.Testing;

/// <summary>
/// A hub filter that fails the next Subscribe once armed, with the gateway's <c>internal</c> error on a connection
/// that stays up: what a client sees when the gateway's database fails a subscription's replay, which a healthy file
/// cannot be made to do.
/// </summary>
public sealed class FailingSubscribeFilter : IHubFilter
{
    private int _armed;
    private int _failed;

    /// <summary>Subscribes failed so far.</summary>
    public int Failed => Volatile.Read(ref _failed);

    public void FailNext() => Volatile.Write(ref _armed, 1);

    /// <summary>Adds the filter to a test server's hubs (for <see cref="GatewayTestServer"/>'s configureServices).</summary>
    public void AddTo(IServiceCollection services) => services.Configure<HubOptions>(options => options.AddFilter(this));

    public ValueTask<object?> InvokeMethodAsync(HubInvocationContext invocationContext, Func<HubInvocationContext, ValueTask<object?>> next)
    {
        ArgumentNullException.ThrowIfNull(invocationContext);
        ArgumentNullException.ThrowIfNull(next);
        if (invocationContext.HubMethodName == nameof(IEventSubscriptionHub.Subscribe) && Interlocked.Exchange(ref _armed, 0) == 1)
        {
            Interlocked.Increment(ref _failed);
            throw new HubException($"{HubErrorCodes.Internal}: injected failure of the replay");
        }

        return next(invocationContext);
    }
}
