using Gateway.Data.Entities;
using Microsoft.EntityFrameworkCore;

namespace Gateway.Data.Tests;

/// <summary>
/// The application's updated_at and the schema's AFTER UPDATE triggers agree: EF writes the clock's time (and the
/// trigger leaves it alone), an UPDATE that does not touch updated_at gets datetime('now') from the trigger.
/// </summary>
public sealed class TriggerInterplayTests
{
    [Fact]
    public async Task Ef_insert_takes_created_and_updated_at_from_the_clock_when_unset()
    {
        await using var db = await TestDatabase.CreateAsync();
        var task = await db.AddTaskAsync("t");
        await using (var context = db.NewContext())
        {
            context.Sessions.Add(new GatewaySession { Id = "s", ClientId = "c", ConnectionType = SessionConnectionType.Http });
            await context.SaveChangesAsync(db.Token);
        }

        var now = db.Clock.UtcNow;
        Assert.Equal(now, task.CreatedAt);
        Assert.Equal(now, task.UpdatedAt);
        Assert.Equal(Timestamps.Stored(now), await db.TextAsync("SELECT created_at FROM tasks"));
        Assert.Equal(Timestamps.Stored(now), await db.TextAsync("SELECT updated_at FROM tasks"));
        Assert.Equal(Timestamps.Stored(now), await db.TextAsync("SELECT last_heartbeat FROM sessions"));
        Assert.Equal("2025-01-15 10:00:00.1234567", Timestamps.Stored(now));
    }

    [Fact]
    public async Task Ef_update_of_a_task_sets_updated_at_to_the_clock_and_the_trigger_leaves_it()
    {
        await using var db = await TestDatabase.CreateAsync();
        var created = db.Clock.UtcNow;
        await db.AddTaskAsync("t");
        db.Clock.Advance(TimeSpan.FromSeconds(90.5));
        var updated = db.Clock.UtcNow;

        await using (var context = db.NewContext())
        {
            var task = await context.Tasks.SingleAsync(db.Token);
            task.Status = AgentTaskStatus.Running;
            task.UpdatedAt = new DateTime(2000, 1, 1, 0, 0, 0, DateTimeKind.Utc); // overridden: the clock owns it
            await context.SaveChangesAsync(db.Token);
            Assert.Equal(updated, task.UpdatedAt);
            Assert.Equal(created, task.CreatedAt);
        }

        Assert.Equal(Timestamps.Stored(updated), await db.TextAsync("SELECT updated_at FROM tasks"));
        Assert.Equal(Timestamps.Stored(created), await db.TextAsync("SELECT created_at FROM tasks"));
        await using var reader = db.NewContext();
        Assert.Equal(updated, (await reader.Tasks.SingleAsync(db.Token)).UpdatedAt);
    }

    [Fact]
    public async Task Ef_update_of_every_trigger_table_stamps_the_clock()
    {
        await using var db = await TestDatabase.CreateAsync();
        await using (var context = db.NewContext())
        {
            context.Add(new AgentTask { Id = "t", Title = "t", TaskType = "x" });
            context.Add(new Workflow { Id = "w", Name = "w", Definition = "{}" });
            context.Add(new GatewaySession { Id = "s", ClientId = "c" });
            context.Add(new ConfigurationEntry { Key = "k", Value = "v" });
            await context.SaveChangesAsync(db.Token);
        }

        db.Clock.Advance(TimeSpan.FromMilliseconds(1500));
        var updated = db.Clock.UtcNow;
        await using (var context = db.NewContext())
        {
            (await context.Tasks.SingleAsync(db.Token)).Title = "changed";
            (await context.Workflows.SingleAsync(db.Token)).Status = WorkflowStatus.Active;
            (await context.Sessions.SingleAsync(db.Token)).IsActive = false;
            (await context.Configurations.SingleAsync(db.Token)).Value = "changed";
            Assert.Equal(4, await context.SaveChangesAsync(db.Token));
        }

        foreach (var table in new[] { "tasks", "workflows", "sessions", "configurations" })
        {
            Assert.Equal(Timestamps.Stored(updated), await db.TextAsync($"SELECT updated_at FROM {table}"));
            Assert.Equal(Timestamps.Stored(TestDatabase.ClockStart), await db.TextAsync($"SELECT created_at FROM {table}"));
        }
    }

    [Fact]
    public async Task Two_ef_updates_at_the_same_clock_time_still_change_updated_at()
    {
        await using var db = await TestDatabase.CreateAsync();
        await db.AddTaskAsync("t");
        await using var context = db.NewContext();
        var task = await context.Tasks.SingleAsync(db.Token);

        task.Status = AgentTaskStatus.Queued;
        await context.SaveChangesAsync(db.Token);
        task.Status = AgentTaskStatus.Running;
        await context.SaveChangesAsync(db.Token);

        // The clock did not move: each update moved updated_at by one tick, so the trigger never fired.
        Assert.Equal(TestDatabase.ClockStart.AddTicks(2), task.UpdatedAt);
        Assert.Equal(Timestamps.Stored(task.UpdatedAt), await db.TextAsync("SELECT updated_at FROM tasks"));
    }

    [Theory]
    [InlineData("tasks", "UPDATE tasks SET status = 'running' WHERE id = 'id'")]
    [InlineData("workflows", "UPDATE workflows SET status = 'active' WHERE id = 'id'")]
    [InlineData("sessions", "UPDATE sessions SET is_active = 0 WHERE id = 'id'")]
    [InlineData("configurations", "UPDATE configurations SET value = 'changed' WHERE key = 'id'")]
    public async Task Raw_update_not_touching_updated_at_gets_it_moved_by_the_trigger(string table, string update)
    {
        await using var db = await TestDatabase.CreateAsync();
        await using (var context = db.NewContext())
        {
            context.Add<object>(table switch
            {
                "tasks" => new AgentTask { Id = "id", Title = "t", TaskType = "x" },
                "workflows" => new Workflow { Id = "id", Name = "w", Definition = "{}" },
                "sessions" => new GatewaySession { Id = "id", ClientId = "c" },
                _ => new ConfigurationEntry { Key = "id", Value = "v" },
            });
            await context.SaveChangesAsync(db.Token);
        }

        var before = DateTime.UtcNow.AddSeconds(-1);
        Assert.Equal(1, await db.ExecuteAsync(update));
        var after = DateTime.UtcNow.AddSeconds(1);

        var text = await db.TextAsync($"SELECT updated_at FROM {table}");
        Assert.Matches(@"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$", text); // datetime('now'), the trigger's
        Assert.NotEqual(Timestamps.Stored(TestDatabase.ClockStart), text);
        Assert.Equal(Timestamps.Stored(TestDatabase.ClockStart), await db.TextAsync($"SELECT created_at FROM {table}"));

        await using var reader = db.NewContext();
        var entity = await reader.FindAsync(reader.Model.GetEntityTypes().Single(t => t.GetTableName() == table).ClrType, ["id"], db.Token);
        var updatedAt = (DateTime)reader.Entry(entity!).Property("UpdatedAt").CurrentValue!;
        Assert.InRange(updatedAt, before, after);
        Assert.Equal(DateTimeKind.Utc, updatedAt.Kind);
    }

    [Fact]
    public async Task Raw_update_that_sets_updated_at_is_left_alone_by_the_trigger()
    {
        await using var db = await TestDatabase.CreateAsync();
        await db.AddTaskAsync("t");
        await db.ExecuteAsync("UPDATE tasks SET status = 'failed', updated_at = '2026-06-01 08:00:00.25' WHERE id = 't'");
        Assert.Equal("2026-06-01 08:00:00.25", await db.TextAsync("SELECT updated_at FROM tasks"));
    }
}
