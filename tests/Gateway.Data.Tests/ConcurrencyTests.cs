using Gateway.Data.Entities;
using Microsoft.EntityFrameworkCore;

namespace Gateway.Data.Tests;

/// <summary>updated_at is the optimistic concurrency token: of two changes made from the same read, exactly one wins.</summary>
public sealed class ConcurrencyTests
{
    [Fact]
    public async Task Second_of_two_changes_from_the_same_read_throws_and_the_first_stays()
    {
        await using var db = await TestDatabase.CreateAsync();
        await db.AddTaskAsync("t");
        await using var first = db.NewContext();
        await using var second = db.NewContext();
        var mine = await first.Tasks.SingleAsync(db.Token);
        var theirs = await second.Tasks.SingleAsync(db.Token);

        db.Clock.Advance(TimeSpan.FromSeconds(1));
        mine.Status = AgentTaskStatus.Running;
        await first.SaveChangesAsync(db.Token);

        theirs.Status = AgentTaskStatus.Cancelled;
        var error = await Assert.ThrowsAsync<DbUpdateConcurrencyException>(() => second.SaveChangesAsync(db.Token));
        Assert.Same(theirs, Assert.Single(error.Entries).Entity);

        Assert.Equal("running", await db.TextAsync("SELECT status FROM tasks"));
        Assert.Equal(Timestamps.Stored(db.Clock.UtcNow), await db.TextAsync("SELECT updated_at FROM tasks"));
    }

    [Fact]
    public async Task Stale_change_throws_even_when_the_clock_has_not_moved()
    {
        await using var db = await TestDatabase.CreateAsync();
        await db.AddTaskAsync("t");
        await using var first = db.NewContext();
        await using var second = db.NewContext();
        var mine = await first.Tasks.SingleAsync(db.Token);
        var theirs = await second.Tasks.SingleAsync(db.Token);

        mine.Status = AgentTaskStatus.Running;
        await first.SaveChangesAsync(db.Token);
        theirs.Status = AgentTaskStatus.Cancelled;
        await Assert.ThrowsAsync<DbUpdateConcurrencyException>(() => second.SaveChangesAsync(db.Token));
        Assert.Equal("running", await db.TextAsync("SELECT status FROM tasks"));
    }

    [Fact]
    public async Task Of_two_parallel_changes_exactly_one_wins()
    {
        await using var db = await TestDatabase.CreateAsync();
        await db.AddTaskAsync("t");
        await using var first = db.NewContext();
        await using var second = db.NewContext();
        var a = await first.Tasks.SingleAsync(db.Token);
        var b = await second.Tasks.SingleAsync(db.Token);
        a.Status = AgentTaskStatus.Running;
        b.Status = AgentTaskStatus.Cancelled;
        db.Clock.Advance(TimeSpan.FromSeconds(1));

        async Task<bool> SaveAsync(GatewayDbContext context)
        {
            await Task.Yield();
            try
            {
                await context.SaveChangesAsync(db.Token);
                return true;
            }
            catch (DbUpdateConcurrencyException)
            {
                return false;
            }
        }

        var outcomes = await Task.WhenAll(SaveAsync(first), SaveAsync(second)).WaitAsync(db.Token);

        Assert.Single(outcomes, won => won);
        var winner = outcomes[0] ? "running" : "cancelled";
        Assert.Equal(winner, await db.TextAsync("SELECT status FROM tasks"));
    }

    [Fact]
    public async Task Change_after_a_raw_update_moved_updated_at_through_the_trigger_throws()
    {
        await using var db = await TestDatabase.CreateAsync();
        await db.AddTaskAsync("t");
        await using var context = db.NewContext();
        var task = await context.Tasks.SingleAsync(db.Token);

        await db.ExecuteAsync("UPDATE tasks SET status = 'paused' WHERE id = 't'");
        task.Status = AgentTaskStatus.Running;
        await Assert.ThrowsAsync<DbUpdateConcurrencyException>(() => context.SaveChangesAsync(db.Token));

        // Reloading takes the trigger's updated_at; the retry then wins.
        await context.Entry(task).ReloadAsync(db.Token);
        Assert.Equal(AgentTaskStatus.Paused, task.Status);
        task.Status = AgentTaskStatus.Running;
        await context.SaveChangesAsync(db.Token);
        Assert.Equal("running", await db.TextAsync("SELECT status FROM tasks"));
    }

    [Fact]
    public async Task Stale_delete_throws_on_every_trigger_table()
    {
        await using var db = await TestDatabase.CreateAsync();
        await using (var context = db.NewContext())
        {
            context.AddRange(
                new AgentTask { Id = "id", Title = "t", TaskType = "x" },
                new Workflow { Id = "id", Name = "w", Definition = "{}" },
                new GatewaySession { Id = "id", ClientId = "c" },
                new ConfigurationEntry { Key = "id", Value = "v" });
            await context.SaveChangesAsync(db.Token);
        }

        await using var stale = db.NewContext();
        object[] entities =
        [
            await stale.Tasks.SingleAsync(db.Token),
            await stale.Workflows.SingleAsync(db.Token),
            await stale.Sessions.SingleAsync(db.Token),
            await stale.Configurations.SingleAsync(db.Token),
        ];
        await db.ExecuteAsync("UPDATE tasks SET title = 'moved' WHERE id = 'id'");
        await db.ExecuteAsync("UPDATE workflows SET name = 'moved' WHERE id = 'id'");
        await db.ExecuteAsync("UPDATE sessions SET client_id = 'moved' WHERE id = 'id'");
        await db.ExecuteAsync("UPDATE configurations SET value = 'moved' WHERE key = 'id'");

        foreach (var entity in entities)
        {
            stale.Remove(entity);
            await Assert.ThrowsAsync<DbUpdateConcurrencyException>(() => stale.SaveChangesAsync(db.Token));
            stale.ChangeTracker.Clear();
        }

        Assert.Equal(1, await db.LongAsync("SELECT COUNT(*) FROM tasks"));
        Assert.Equal(1, await db.LongAsync("SELECT COUNT(*) FROM configurations"));
    }

    /// <summary>
    /// A known limit, pinned so it is seen: the token is compared as text, and EF writes the one canonical form. A
    /// row whose updated_at another writer stored in chrono form (<c>…T…+00:00</c>) therefore never matches, and
    /// every EF update of it is reported as a conflict until the column holds the canonical form (for example
    /// after any UPDATE that leaves updated_at to the trigger).
    /// </summary>
    [Fact]
    public async Task Chrono_form_updated_at_is_reported_as_a_conflict_until_rewritten()
    {
        await using var db = await TestDatabase.CreateAsync();
        await db.ExecuteAsync("INSERT INTO tasks (id, title, task_type, updated_at) VALUES ('t', 't', 'x', '2025-01-15T10:00:00+00:00')");
        await using var context = db.NewContext();
        var task = await context.Tasks.SingleAsync(db.Token);
        task.Status = AgentTaskStatus.Running;
        await Assert.ThrowsAsync<DbUpdateConcurrencyException>(() => context.SaveChangesAsync(db.Token));

        await db.ExecuteAsync("UPDATE tasks SET title = title WHERE id = 't'"); // the trigger rewrites updated_at
        await context.Entry(task).ReloadAsync(db.Token);
        task.Status = AgentTaskStatus.Running;
        await context.SaveChangesAsync(db.Token);
        Assert.Equal("running", await db.TextAsync("SELECT status FROM tasks"));
    }
}
