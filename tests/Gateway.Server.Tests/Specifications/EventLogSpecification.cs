using System.Collections.Concurrent;
using Gateway.Contracts;
using Gateway.Data;
using Gateway.Data.Entities;
using Gateway.Server.Events;

namespace Gateway.Server.Tests.Specifications;

/// <summary>
/// The contract of <see cref="IEventLog"/>, written once: every implementation runs it by deriving a class that says
/// how to make a fresh log and a change's unit of work on it (as aspnetcore's ScaleoutHubLifetimeManagerTests do for
/// lifetime managers).
/// </summary>
public abstract class EventLogSpecification : IAsyncLifetime
{
    private const long Unbounded = long.MaxValue;

    internal IEventLog Log { get; private set; } = null!;

    /// <summary>A log on a fresh, migrated database of its own.</summary>
    internal abstract Task<IEventLog> CreateLogAsync();

    /// <summary>A unit of work on <see cref="Log"/>'s database, on a connection of its own (one per writer).</summary>
    internal abstract GatewayDbContext NewChange();

    /// <summary>Makes the events of a change that commits at <paramref name="at"/>.</summary>
    internal static EventLogEntry Entry(DateTime at, int priority = EventPriorities.Normal, string? taskId = null) => new()
    {
        EventType = "task.status",
        Priority = priority,
        TaskId = taskId,
        Payload = """{"status":"running"}""",
        CreatedAt = at,
    };

    public async Task InitializeAsync() => Log = await CreateLogAsync();

    public virtual Task DisposeAsync() => Task.CompletedTask;

    private async Task<long[]> AppendAsync(int count, DateTime? at = null, string? taskId = null, int priority = EventPriorities.Normal)
    {
        await using var change = NewChange();
        await using var transaction = await change.Database.BeginTransactionAsync();
        var entries = await AppendUncommittedAsync(change, count, at, taskId, priority);
        await transaction.CommitAsync();
        return [.. entries.Select(e => e.Id)];
    }

    /// <summary>Appends as the change writer does, in the caller's open transaction, and saves without committing.</summary>
    private async Task<List<EventLogEntry>> AppendUncommittedAsync(
        GatewayDbContext change, int count, DateTime? at = null, string? taskId = null, int priority = EventPriorities.Normal)
    {
        await Log.BeginAppendsAsync(change, CancellationToken.None);
        var entries = Enumerable.Range(0, count).Select(_ => Entry(at ?? DateTime.UtcNow, priority, taskId)).ToList();
        foreach (var entry in entries)
        {
            Log.Append(change, entry);
        }

        await change.SaveChangesAsync();
        return entries;
    }

    private async Task<List<long>> ReadAllAsync(EventLogRead read)
    {
        var ids = new List<long>();
        while (true)
        {
            var page = await Log.ReadAfterAsync(read with { After = ids.Count == 0 ? read.After : ids[^1] }, CancellationToken.None);
            if (page.Count == 0)
            {
                return ids;
            }

            ids.AddRange(page.Select(e => e.Id));
        }
    }

    [Fact]
    public async Task A_new_log_is_empty_at_head_0_with_floor_0_and_an_epoch()
    {
        var state = await Log.StateAsync(CancellationToken.None);

        Assert.Equal(0, await Log.HeadAsync(CancellationToken.None));
        Assert.Equal(0, state.RetentionFloor);
        Assert.False(string.IsNullOrEmpty(state.Epoch));
        Assert.Empty(await Log.ReadAfterAsync(new EventLogRead(0, Unbounded), CancellationToken.None));
    }

    [Fact]
    public async Task Two_databases_have_different_epochs_and_one_database_keeps_its_own()
    {
        var first = (await Log.StateAsync(CancellationToken.None)).Epoch;
        await AppendAsync(3);
        var other = await CreateLogAsync();

        Assert.Equal(first, (await Log.StateAsync(CancellationToken.None)).Epoch);
        Assert.NotEqual(first, (await other.StateAsync(CancellationToken.None)).Epoch);
    }

    [Fact]
    public async Task A_reader_following_writers_that_commit_at_once_sees_every_id_once_in_order_and_never_skips_one()
    {
        const int Writers = 4;
        const int ChangesPerWriter = 40;
        var committed = new ConcurrentBag<long>();
        var seen = new List<long>();
        using var done = new CancellationTokenSource();
        var reader = Task.Run(async () =>
        {
            // Follows as a node does: after the last id seen, until the writers are done and nothing is left.
            while (true)
            {
                var finished = done.IsCancellationRequested;
                var page = await Log.ReadAfterAsync(new EventLogRead(seen.Count == 0 ? 0 : seen[^1], Unbounded), CancellationToken.None);
                seen.AddRange(page.Select(e => e.Id));
                if (page.Count == 0 && finished)
                {
                    return;
                }
            }
        });

        await Task.WhenAll(Enumerable.Range(0, Writers).Select(_ => Task.Run(async () =>
        {
            for (var i = 0; i < ChangesPerWriter; i++)
            {
                foreach (var id in await AppendAsync(1 + (i % 3)))
                {
                    committed.Add(id);
                }
            }
        })));
        await done.CancelAsync();
        await reader;

        var all = committed.Order().ToArray();
        Assert.Equal(all.Distinct().Count(), all.Length);
        // An id committed below one the reader had already passed would be missing here.
        Assert.Equal(all, seen);
        Assert.Equal(all[^1], await Log.HeadAsync(CancellationToken.None));
    }

    [Fact]
    public async Task A_commit_that_would_finish_before_an_earlier_open_append_never_lets_a_reader_pass_that_append()
    {
        await AppendAsync(1);
        // The first writer has taken its id and not committed; a second writer appends and commits meanwhile.
        await using var first = NewChange();
        await using var firstTransaction = await first.Database.BeginTransactionAsync();
        var open = (await AppendUncommittedAsync(first, 1))[0].Id;
        var second = Task.Run(() => AppendAsync(1));
        await Task.WhenAny(second, Task.Delay(TimeSpan.FromMilliseconds(500)));
        var seenWhileOpen = await ReadAllAsync(new EventLogRead(0, Unbounded));

        await firstTransaction.CommitAsync();
        var later = (await second)[0];
        var seenAfter = await ReadAllAsync(new EventLogRead(0, Unbounded));

        // Either the second writer waited for the first, or its id comes after; a reader that had passed the open
        // append's id before it committed would skip it for good.
        Assert.DoesNotContain(seenWhileOpen, id => id > open);
        Assert.True(later > open);
        Assert.Equal([.. seenWhileOpen, .. seenAfter.Skip(seenWhileOpen.Count)], seenAfter);
        Assert.Equal([open, later], seenAfter[^2..]);
    }

    [Fact]
    public async Task A_rolled_back_append_is_never_visible_and_later_ids_still_increase()
    {
        var before = await AppendAsync(2);
        await using (var change = NewChange())
        await using (var transaction = await change.Database.BeginTransactionAsync())
        {
            await AppendUncommittedAsync(change, 1);
            await transaction.RollbackAsync();
        }

        var after = await AppendAsync(1);

        Assert.True(after[0] > before[^1]);
        Assert.Equal([.. before, .. after], await ReadAllAsync(new EventLogRead(0, Unbounded)));
    }

    [Fact]
    public async Task A_read_keeps_to_its_position_bound_priority_and_subject_and_a_page_to_its_bytes()
    {
        var low = await AppendAsync(2, priority: EventPriorities.Low, taskId: "t-1");
        var mine = await AppendAsync(3, taskId: "t-1");
        var others = await AppendAsync(2, taskId: "t-2");

        Assert.Equal([.. low.Skip(1), .. mine, .. others], await ReadAllAsync(new EventLogRead(low[0], Unbounded)));
        Assert.Equal(mine, await ReadAllAsync(new EventLogRead(0, Unbounded, MinPriority: EventPriorities.Normal, Scope: SubscriptionScopes.Task, SubjectId: "t-1")));
        Assert.Equal([.. low, mine[0]], await ReadAllAsync(new EventLogRead(0, Unbounded, UpTo: mine[0])));
        // A page is cut once its bytes reach the bound, but always holds at least one event.
        Assert.Single(await Log.ReadAfterAsync(new EventLogRead(0, MaxBytes: 1), CancellationToken.None));
    }

    [Fact]
    public async Task Pruning_deletes_the_oldest_prefix_up_to_the_first_fresh_event_and_raises_the_floor_with_it()
    {
        var old = DateTime.UtcNow.AddDays(-30);
        var pruned = await AppendAsync(3, old);
        var fresh = await AppendAsync(1);
        var oldBehindFresh = await AppendAsync(1, old);
        var cutoff = DateTime.UtcNow.AddDays(-1);

        int deleted;
        await using (var change = NewChange())
        {
            deleted = await Log.PruneAsync(change, cutoff, chunk: 2, CancellationToken.None);
            deleted += await Log.PruneAsync(change, cutoff, chunk: 2, CancellationToken.None);
            deleted += await Log.PruneAsync(change, cutoff, chunk: 2, CancellationToken.None);
        }

        var state = await Log.StateAsync(CancellationToken.None);
        Assert.Equal(3, deleted);
        Assert.Equal(pruned[^1], state.RetentionFloor);
        Assert.Equal([.. fresh, .. oldBehindFresh], await ReadAllAsync(new EventLogRead(state.RetentionFloor, Unbounded)));
        Assert.Equal(oldBehindFresh[0], await Log.HeadAsync(CancellationToken.None));
    }

    [Fact]
    public async Task A_log_pruned_to_empty_keeps_its_head_and_the_next_id_follows_it()
    {
        var old = await AppendAsync(2, DateTime.UtcNow.AddDays(-30));
        await using (var change = NewChange())
        {
            await Log.PruneAsync(change, DateTime.UtcNow, chunk: 100, CancellationToken.None);
        }

        Assert.Equal(old[^1], await Log.HeadAsync(CancellationToken.None));
        Assert.Equal(old[^1], (await Log.StateAsync(CancellationToken.None)).RetentionFloor);
        Assert.True((await AppendAsync(1))[0] > old[^1]);
    }
}
