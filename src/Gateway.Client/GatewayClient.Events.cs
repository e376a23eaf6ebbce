using Microsoft.AspNetCore.SignalR.Client;

namespace Gateway.Client;

// Raising events on the dispatcher, and the handlers of On<T>.
public sealed partial class GatewayClient
{
    private void Raise<T>(Func<T, Task>? handlers, T argument)
    {
        if (handlers is not null)
        {
            _events.Post(() => InvokeHandlersAsync(handlers, argument));
        }
    }

    /// <summary>Each handler in turn; one failing does not keep the others from running.</summary>
    private async Task InvokeHandlersAsync<T>(Func<T, Task>? handlers, T argument)
    {
        if (handlers is null)
        {
            return;
        }

        foreach (var handler in handlers.GetInvocationList().Cast<Func<T, Task>>())
        {
            try
            {
                await handler(argument);
            }
            catch (Exception exception) when (exception is not OutOfMemoryException)
            {
                LogHandlerFailed(exception);
            }
        }
    }

    /// <summary>A handler of <see cref="On{T}"/>, attached to every connection of the client until disposed.</summary>
    private sealed class Registration(GatewayClient owner, Func<HubConnection, IDisposable> attach) : IDisposable
    {
        private IDisposable? _current;

        /// <summary>Called under the owner's gate.</summary>
        public void AttachTo(HubConnection connection) => _current = attach(connection);

        public void Dispose()
        {
            lock (owner._gate)
            {
                owner._registrations.Remove(this);
                _current?.Dispose();
                _current = null;
            }
        }
    }
}
