using System.Collections.Concurrent;
using System.Threading.Channels;

namespace Gateway.Client.Tests.Infrastructure;

/// <summary>What one event of a client delivered, in order, awaitable with a timeout.</summary>
internal sealed class EventStream<T>
{
    private readonly Channel<T> _unread = Channel.CreateUnbounded<T>();
    private readonly ConcurrentQueue<T> _all = new();

    public IReadOnlyList<T> All => [.. _all];

    public int Count => _all.Count;

    public Task Add(T item)
    {
        _all.Enqueue(item);
        _unread.Writer.TryWrite(item);
        return Task.CompletedTask;
    }

    /// <summary>The next item not read yet that matches (items that do not match are skipped).</summary>
    public async Task<T> NextAsync(Func<T, bool>? match = null, TimeSpan? timeout = null)
    {
        using var cancellation = new CancellationTokenSource(timeout ?? TestClients.Timeout);
        try
        {
            while (true)
            {
                var item = await _unread.Reader.ReadAsync(cancellation.Token);
                if (match is null || match(item))
                {
                    return item;
                }
            }
        }
        catch (OperationCanceledException) when (cancellation.IsCancellationRequested)
        {
            throw new TimeoutException($"No {typeof(T).Name} event within {(timeout ?? TestClients.Timeout).TotalSeconds} s");
        }
    }
}
