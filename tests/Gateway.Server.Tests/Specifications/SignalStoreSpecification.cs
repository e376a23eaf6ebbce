using System.Collections.Concurrent;
using Gateway.Server.Cluster;
using Gateway.Server.Sessions;

namespace Gateway.Server.Tests.Specifications;

/// <summary>
/// The contract of <see cref="ISignalStore"/>, written once: an implementation runs it by deriving a class that makes
/// a fresh database and the signal and session stores on it (signals are written in session writers' transactions).
/// </summary>
public abstract class SignalStoreSpecification : IAsyncLifetime
{
    private static readonly DateTime T0 = new(2026, 12, 2, 10, 0, 0, DateTimeKind.Utc);

    internal ISignalStore Signals { get; private set; } = null!;

    internal ISessionStore Sessions { get; private set; } = null!;

    /// <summary>The signal store and a session store (whose transactions signals are written in) on a fresh, migrated database.</summary>
    internal abstract Task<(ISignalStore Signals, ISessionStore Sessions)> CreateStoresAsync();

    public async Task InitializeAsync() => (Signals, Sessions) = await CreateStoresAsync();

    public virtual Task DisposeAsync() => Task.CompletedTask;

    private static Signal Signal(string origin, string? target = null, string payload = """{"sessionId":"s-1"}""", DateTime? at = null, string kind = ClusterSignals.SessionOpened) =>
        new(0, kind, origin, target, payload, at ?? T0);

    private async Task InsertAsync(params Signal[] signals)
    {
        await using var connection = await Sessions.ConnectAsync(CancellationToken.None);
        await using var batch = await connection.BeginAsync(CancellationToken.None);
        foreach (var signal in signals)
        {
            await Signals.InsertAsync(batch, signal, CancellationToken.None);
        }

        await batch.CommitAsync(CancellationToken.None);
    }

    private async Task<List<Signal>> ReadAllAsync(string node, long after = 0)
    {
        var all = new List<Signal>();
        while (true)
        {
            var page = await Signals.ReadAfterAsync(all.Count == 0 ? after : all[^1].Id, node, max: 2, CancellationToken.None);
            if (page.Count == 0)
            {
                return all;
            }

            all.AddRange(page);
        }
    }

    [Fact]
    public async Task A_node_reads_other_nodes_signals_for_every_node_or_for_it_in_id_order_exactly_as_written()
    {
        Assert.Equal(0, await Signals.HeadAsync(CancellationToken.None));
        const string Payload = """{"sessionId":"s-1","reason":"maintenance \"window\" ✓ \u0000"}""";
        await InsertAsync(
            Signal("node-b", payload: Payload),
            Signal("node-a"),
            Signal("node-b", target: "node-a", kind: ClusterSignals.SessionDisconnect),
            Signal("node-b", target: "node-c", kind: ClusterSignals.SessionDisconnect),
            Signal("node-c", at: T0.AddSeconds(1)));

        var read = await ReadAllAsync("node-a");

        Assert.Equal(
            [("node-b", null, ClusterSignals.SessionOpened), ("node-b", "node-a", ClusterSignals.SessionDisconnect), ("node-c", null, ClusterSignals.SessionOpened)],
            read.Select(s => (s.OriginNode, s.TargetNode, s.Kind)));
        Assert.Equal(Payload, read[0].Payload);
        Assert.Equal(T0.AddSeconds(1), read[2].CreatedAt);
        Assert.Equal(read.Select(s => s.Id).Order(), read.Select(s => s.Id));
        Assert.Equal(read[^1].Id, await Signals.HeadAsync(CancellationToken.None));
        Assert.Equal(read.Skip(1).Select(s => s.Id), (await ReadAllAsync("node-a", after: read[0].Id)).Select(s => s.Id));
    }

    [Fact]
    public async Task A_signal_of_a_batch_rolled_back_is_never_visible()
    {
        await using (var connection = await Sessions.ConnectAsync(CancellationToken.None))
        await using (var batch = await connection.BeginAsync(CancellationToken.None))
        {
            await Signals.InsertAsync(batch, Signal("node-b"), CancellationToken.None);
        }

        await InsertAsync(Signal("node-b", payload: "{}"));

        Assert.Equal("{}", Assert.Single(await ReadAllAsync("node-a")).Payload);
    }

    [Fact]
    public async Task A_reader_following_writers_on_several_nodes_that_commit_at_once_never_skips_a_signal()
    {
        const int Writers = 4;
        const int BatchesPerWriter = 30;
        var written = 0;
        var seen = new List<long>();
        using var done = new CancellationTokenSource();
        var reader = Task.Run(async () =>
        {
            while (true)
            {
                var finished = done.IsCancellationRequested;
                var page = await Signals.ReadAfterAsync(seen.Count == 0 ? 0 : seen[^1], "reader", max: 50, CancellationToken.None);
                seen.AddRange(page.Select(s => s.Id));
                if (page.Count == 0 && finished)
                {
                    return;
                }
            }
        });

        var failures = new ConcurrentQueue<Exception>();
        await Task.WhenAll(Enumerable.Range(0, Writers).Select(writer => Task.Run(async () =>
        {
            for (var i = 0; i < BatchesPerWriter; i++)
            {
                var batch = Enumerable.Range(0, 1 + (i % 3)).Select(_ => Signal($"node-{writer}")).ToArray();
                await InsertAsync(batch);
                Interlocked.Add(ref written, batch.Length);
            }
        })));
        await done.CancelAsync();
        await reader;

        var all = (await ReadAllAsync("reader")).Select(s => s.Id).ToList();
        Assert.Equal(written, all.Count);
        // A signal committed below an id the reader had already passed would be missing here.
        Assert.Equal(all, seen);
    }

    [Fact]
    public async Task Pruning_deletes_signals_created_before_the_cutoff_only()
    {
        await InsertAsync(Signal("node-b", at: T0.AddHours(-2)), Signal("node-b", at: T0.AddHours(-2)), Signal("node-b", at: T0));

        int deleted;
        await using (var connection = await Sessions.ConnectAsync(CancellationToken.None))
        await using (var batch = await connection.BeginAsync(CancellationToken.None))
        {
            deleted = await Signals.PruneAsync(batch, T0.AddHours(-1), CancellationToken.None);
            await batch.CommitAsync(CancellationToken.None);
        }

        Assert.Equal(2, deleted);
        Assert.Equal(T0, Assert.Single(await ReadAllAsync("node-a")).CreatedAt);
    }
}
