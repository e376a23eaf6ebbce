using System.Threading.Channels;

namespace Gateway.Client;

/// <summary>
/// Runs the client's event handlers one at a time, in the order the events happened, on a task of its own. Off SignalR's
/// receive loop on purpose: a handler may then await hub methods (their results arrive through that loop) or stop the client.
/// </summary>
internal sealed class EventDispatcher : IAsyncDisposable
{
    private static readonly AsyncLocal<EventDispatcher?> Running = new();

    private readonly Channel<Func<Task>> _queue = Channel.CreateUnbounded<Func<Task>>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Action<Exception> _onFailure;
    private readonly Task _loop;

    public EventDispatcher(Action<Exception> onFailure)
    {
        _onFailure = onFailure;
        _loop = Task.Run(RunAsync);
    }

    /// <summary>Whether the caller is a handler run by this dispatcher (which must not wait for the dispatcher to drain).</summary>
    public bool IsRunningHandler => Running.Value == this;

    /// <summary>Queues <paramref name="work"/>; dropped once the dispatcher is disposed.</summary>
    public void Post(Func<Task> work) => _queue.Writer.TryWrite(work);

    /// <summary>Runs what is queued, then stops. Does not wait when called from a handler (that would wait for itself).</summary>
    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        if (!IsRunningHandler)
        {
            await _loop;
        }
    }

    private async Task RunAsync()
    {
        Running.Value = this;
        await foreach (var work in _queue.Reader.ReadAllAsync())
        {
            try
            {
                await work();
            }
#pragma warning disable CA1031 // A failing handler is the application's bug; it must not stop the events that follow.
            catch (Exception exception)
#pragma warning restore CA1031
            {
                _onFailure(exception);
            }
        }
    }
}
