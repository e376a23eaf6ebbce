using System.Globalization;
using Microsoft.EntityFrameworkCore;

namespace Gateway.Data.Tests;

/// <summary>Rows written by others (SQL defaults, the Rust orchestrator's chrono) read as correct UTC values.</summary>
public sealed class TimestampFormTests
{
    [Fact]
    public async Task Rows_written_by_sql_defaults_read_as_utc_now()
    {
        await using var db = await TestDatabase.CreateAsync();
        var before = TruncateToSecond(DateTime.UtcNow);

        await db.ExecuteAsync("INSERT INTO tasks (id, title, task_type) VALUES ('t', 'title', 'build')");
        await db.ExecuteAsync("INSERT INTO workflows (id, name, definition) VALUES ('w', 'name', '{}')");
        await db.ExecuteAsync("INSERT INTO workflow_tasks (workflow_id, task_id, sequence) VALUES ('w', 't', 0)");
        await db.ExecuteAsync("INSERT INTO tool_executions (id, task_id, tool_name, arguments) VALUES ('e', 't', 'tool', '{}')");
        await db.ExecuteAsync("INSERT INTO sessions (id, client_id, connection_type) VALUES ('s', 'c', 'websocket')");
        await db.ExecuteAsync("INSERT INTO configurations (key, value) VALUES ('k', 'v')");

        var after = DateTime.UtcNow.AddSeconds(1);
        await using var context = db.NewContext();
        var task = await context.Tasks.SingleAsync(db.Token);
        var workflow = await context.Workflows.SingleAsync(db.Token);
        var link = await context.WorkflowTasks.SingleAsync(db.Token);
        var execution = await context.ToolExecutions.SingleAsync(db.Token);
        var session = await context.Sessions.SingleAsync(db.Token);
        var entry = await context.Configurations.SingleAsync(db.Token);

        DateTime[] stamps =
        [
            task.CreatedAt, task.UpdatedAt, workflow.CreatedAt, workflow.UpdatedAt, link.CreatedAt, execution.CreatedAt,
            session.CreatedAt, session.UpdatedAt, session.LastHeartbeat, entry.CreatedAt, entry.UpdatedAt,
        ];
        foreach (var stamp in stamps)
        {
            Assert.Equal(DateTimeKind.Utc, stamp.Kind);
            Assert.InRange(stamp, before, after);
        }

        // What EF would write back for such a value is the very text the default wrote.
        Assert.Equal(
            await db.TextAsync("SELECT created_at FROM tasks"),
            Timestamps.Stored(task.CreatedAt));
        Assert.Null(task.StartedAt);
        Assert.Null(execution.DurationMs);
    }

    [Fact]
    public async Task Rows_written_in_chrono_form_read_as_the_same_utc_instant()
    {
        await using var db = await TestDatabase.CreateAsync();
        await db.ExecuteAsync(
            """
            INSERT INTO tasks (id, title, task_type, created_at, updated_at, started_at, completed_at)
            VALUES ('t', 'title', 'build', '2025-01-15T10:00:00+00:00', '2025-01-15T10:00:00Z',
                    '2025-01-15T10:00:00.123456789+00:00', '2025-01-15T12:00:00.5+02:00')
            """);
        await db.ExecuteAsync(
            """
            INSERT INTO tool_executions (id, task_id, tool_name, arguments, created_at, started_at, completed_at, duration_ms)
            VALUES ('e', 't', 'tool', '{}', '2025-01-15T10:00:00.123Z', '2025-01-15T10:00:00.123456+00:00',
                    '2025-01-15T09:00:01-01:00', 877)
            """);

        await using var context = db.NewContext();
        var task = await context.Tasks.Include(t => t.ToolExecutions).SingleAsync(db.Token);
        var ten = new DateTime(2025, 1, 15, 10, 0, 0, DateTimeKind.Utc);

        Assert.Equal(ten, task.CreatedAt);
        Assert.Equal(ten, task.UpdatedAt);
        Assert.Equal(ten.AddTicks(1_234_567), task.StartedAt);
        Assert.Equal(ten.AddMilliseconds(500), task.CompletedAt);
        var execution = Assert.Single(task.ToolExecutions);
        Assert.Equal(ten.AddMilliseconds(123), execution.CreatedAt);
        Assert.Equal(ten.AddTicks(1_234_560), execution.StartedAt);
        Assert.Equal(ten.AddSeconds(1), execution.CompletedAt);

        DateTime?[] all = [task.CreatedAt, task.UpdatedAt, task.StartedAt, task.CompletedAt, execution.CreatedAt, execution.StartedAt, execution.CompletedAt];
        Assert.All(all, value => Assert.Equal(DateTimeKind.Utc, value!.Value.Kind));
    }

    [Fact]
    public async Task Queries_compare_timestamps_as_stored_text_in_time_order()
    {
        await using var db = await TestDatabase.CreateAsync();
        var start = TestDatabase.ClockStart;
        await using (var context = db.NewContext())
        {
            for (var i = 0; i < 5; i++)
            {
                context.Tasks.Add(new() { Id = $"t{i}", Title = "t", TaskType = "x", CreatedAt = start.AddMilliseconds(i * 250) });
            }

            await context.SaveChangesAsync(db.Token);
        }

        await using var reader = db.NewContext();
        var since = start.AddMilliseconds(500);
        var later = await reader.Tasks.Where(t => t.CreatedAt >= since).OrderByDescending(t => t.CreatedAt).Select(t => t.Id).ToListAsync(db.Token);
        Assert.Equal(["t4", "t3", "t2"], later);
    }

    private static DateTime TruncateToSecond(DateTime value)
        => DateTime.SpecifyKind(DateTime.Parse(value.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture), CultureInfo.InvariantCulture), DateTimeKind.Utc);
}
