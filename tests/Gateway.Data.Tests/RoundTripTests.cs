using Gateway.Data.Entities;
using Microsoft.EntityFrameworkCore;

namespace Gateway.Data.Tests;

/// <summary>Every mapped property of every entity survives a write and a read through EF on a real migrated file.</summary>
public sealed class RoundTripTests
{
    private const string Unicode = "Grüße, 日本語, ‘quotes’ \"double\" and 🚀 \u00e9\u0301";
    private const string Json = """{"größe":"日本","emoji":"🚀","nested":{"list":[1,2.5,null,true,"x"]},"snake_key":"\u00e9"}""";

    private static readonly DateTime Fraction7 = new DateTime(2025, 1, 15, 10, 0, 0, DateTimeKind.Utc).AddTicks(1_234_567);
    private static readonly DateTime Fraction1 = new DateTime(2025, 2, 1, 23, 59, 59, DateTimeKind.Utc).AddTicks(5_000_000);
    private static readonly DateTime WholeSecond = new(2025, 3, 31, 0, 0, 0, DateTimeKind.Utc);
    private static readonly DateTime Tick = new DateTime(2025, 12, 31, 23, 59, 59, DateTimeKind.Utc).AddTicks(1);

    [Fact]
    public async Task AgentTask_round_trips()
    {
        await using var db = await TestDatabase.CreateAsync();
        var full = new AgentTask
        {
            Id = "task-1",
            Title = Unicode,
            Description = Unicode + " description",
            TaskType = "code_review",
            Status = AgentTaskStatus.Running,
            Config = Json,
            Metadata = """{"priority":3}""",
            WorkspacePath = "/work/ünïcode path/ä",
            CreatedAt = Fraction7,
            UpdatedAt = Fraction1,
            StartedAt = WholeSecond,
            CompletedAt = Tick,
            Error = "boom: " + Unicode,
        };
        var sparse = new AgentTask { Id = "task-2", Title = "t", TaskType = "x", CreatedAt = Fraction7, UpdatedAt = Fraction7 };

        await RoundTripAsync(db, [full, sparse], context => context.Tasks, task => task.Id);

        Assert.Equal(
            ["2025-01-15 10:00:00.1234567", "2025-02-01 23:59:59.5", "2025-03-31 00:00:00", "2025-12-31 23:59:59.0000001", "running", Json],
            await RowAsync(db, "SELECT created_at, updated_at, started_at, completed_at, status, config FROM tasks WHERE id = 'task-1'"));
        Assert.Equal(
            ["pending", "{}", null, null, null, null, null, null],
            await RowAsync(db, "SELECT status, config, description, metadata, workspace_path, started_at, completed_at, error FROM tasks WHERE id = 'task-2'"));
    }

    [Fact]
    public async Task Workflow_round_trips()
    {
        await using var db = await TestDatabase.CreateAsync();
        var full = new Workflow
        {
            Id = "wf-1",
            Name = Unicode,
            Description = "déscription",
            Definition = Json,
            Status = WorkflowStatus.Archived,
            CreatedAt = Fraction7,
            UpdatedAt = Tick,
        };
        var sparse = new Workflow { Id = "wf-2", Name = "n", Definition = "[]", CreatedAt = WholeSecond, UpdatedAt = WholeSecond };

        await RoundTripAsync(db, [full, sparse], context => context.Workflows, workflow => workflow.Id);

        Assert.Equal(
            ["2025-01-15 10:00:00.1234567", "2025-12-31 23:59:59.0000001", "archived", Json],
            await RowAsync(db, "SELECT created_at, updated_at, status, definition FROM workflows WHERE id = 'wf-1'"));
        Assert.Equal(["draft", null], await RowAsync(db, "SELECT status, description FROM workflows WHERE id = 'wf-2'"));
    }

    [Fact]
    public async Task WorkflowTask_round_trips()
    {
        await using var db = await TestDatabase.CreateAsync();
        await db.AddTaskAsync("t-1");
        await db.AddTaskAsync("t-2");
        await using (var context = db.NewContext())
        {
            context.Workflows.Add(new Workflow { Id = "wf", Name = "w", Definition = "{}" });
            await context.SaveChangesAsync(db.Token);
        }

        WorkflowTask[] links =
        [
            new() { WorkflowId = "wf", TaskId = "t-1", Sequence = 0, CreatedAt = Fraction7 },
            new() { WorkflowId = "wf", TaskId = "t-2", Sequence = int.MaxValue, CreatedAt = WholeSecond },
        ];
        await RoundTripAsync(db, links, context => context.WorkflowTasks, link => (link.WorkflowId, link.TaskId));

        Assert.Equal(
            ["2025-01-15 10:00:00.1234567", 0L],
            await RowAsync(db, "SELECT created_at, sequence FROM workflow_tasks WHERE task_id = 't-1'"));

        await using var reader = db.NewContext();
        var workflow = await reader.Workflows.Include(w => w.Tasks.OrderBy(t => t.Sequence)).ThenInclude(t => t.AgentTask).SingleAsync(db.Token);
        Assert.Equal(["t-1", "t-2"], workflow.Tasks.Select(t => t.AgentTask!.Id));
    }

    [Fact]
    public async Task ToolExecution_round_trips()
    {
        await using var db = await TestDatabase.CreateAsync();
        await db.AddTaskAsync("t");
        ToolExecution[] executions =
        [
            new()
            {
                Id = "exec-1",
                TaskId = "t",
                ToolName = "shell.run",
                Arguments = Json,
                Output = Unicode + "\n" + new string('x', 100_000),
                Status = ToolExecutionStatus.Timeout,
                Error = Unicode,
                CreatedAt = Fraction7,
                StartedAt = Fraction1,
                CompletedAt = Tick,
                DurationMs = long.MaxValue,
            },
            new() { Id = "exec-2", TaskId = "t", ToolName = "noop", Arguments = "{}", CreatedAt = WholeSecond },
        ];

        await RoundTripAsync(db, executions, context => context.ToolExecutions, execution => execution.Id);

        Assert.Equal(
            ["2025-01-15 10:00:00.1234567", "2025-02-01 23:59:59.5", "2025-12-31 23:59:59.0000001", "timeout", long.MaxValue],
            await RowAsync(db, "SELECT created_at, started_at, completed_at, status, duration_ms FROM tool_executions WHERE id = 'exec-1'"));
        Assert.Equal(
            ["pending", null, null, null, null, null],
            await RowAsync(db, "SELECT status, output, error, started_at, completed_at, duration_ms FROM tool_executions WHERE id = 'exec-2'"));
    }

    [Fact]
    public async Task GatewaySession_round_trips()
    {
        await using var db = await TestDatabase.CreateAsync();
        GatewaySession[] sessions =
        [
            new()
            {
                Id = "s-1",
                ClientId = "client-ü",
                UserId = Unicode,
                ConnectionType = SessionConnectionType.ServerSentEvents,
                IsActive = false,
                Metadata = Json,
                CreatedAt = Fraction7,
                UpdatedAt = Fraction1,
                LastHeartbeat = Tick,
            },
            new()
            {
                Id = "s-2",
                ClientId = "c",
                ConnectionType = SessionConnectionType.LongPolling,
                CreatedAt = WholeSecond,
                UpdatedAt = WholeSecond,
                LastHeartbeat = WholeSecond,
            },
        ];

        await RoundTripAsync(db, sessions, context => context.Sessions, session => session.Id);

        Assert.Equal(
            ["2025-01-15 10:00:00.1234567", "2025-02-01 23:59:59.5", "2025-12-31 23:59:59.0000001", "server_sent_events", 0L, "integer"],
            await RowAsync(db, "SELECT created_at, updated_at, last_heartbeat, connection_type, is_active, typeof(is_active) FROM sessions WHERE id = 's-1'"));
        Assert.Equal(
            ["long_polling", 1L, null, null],
            await RowAsync(db, "SELECT connection_type, is_active, user_id, metadata FROM sessions WHERE id = 's-2'"));
    }

    [Fact]
    public async Task ConfigurationEntry_round_trips()
    {
        await using var db = await TestDatabase.CreateAsync();
        ConfigurationEntry[] entries =
        [
            new()
            {
                Key = "gateway.ключ",
                Value = Json,
                ValueType = ConfigurationValueType.Json,
                Description = Unicode,
                IsSecret = true,
                CreatedAt = Fraction7,
                UpdatedAt = Fraction1,
            },
            new() { Key = "plain", Value = "", CreatedAt = WholeSecond, UpdatedAt = WholeSecond },
        ];

        await RoundTripAsync(db, entries, context => context.Configurations, entry => entry.Key);

        Assert.Equal(
            ["2025-01-15 10:00:00.1234567", "2025-02-01 23:59:59.5", "json", 1L, "integer"],
            await RowAsync(db, "SELECT created_at, updated_at, value_type, is_secret, typeof(is_secret) FROM configurations WHERE key = 'gateway.ключ'"));
        Assert.Equal(["string", 0L, null, ""], await RowAsync(db, "SELECT value_type, is_secret, description, value FROM configurations WHERE key = 'plain'"));
    }

    /// <summary>Inserts <paramref name="rows"/> with one context, reads them back with a fresh one, compares every mapped property.</summary>
    private static async Task RoundTripAsync<TEntity, TKey>(
        TestDatabase db,
        TEntity[] rows,
        Func<GatewayDbContext, DbSet<TEntity>> set,
        Func<TEntity, TKey> key)
        where TEntity : class
    {
        await using (var writer = db.NewContext())
        {
            set(writer).AddRange(rows);
            Assert.Equal(rows.Length, await writer.SaveChangesAsync(db.Token));
        }

        await using var reader = db.NewContext();
        var read = await set(reader).AsNoTracking().ToListAsync(db.Token);
        Assert.Equal(rows.Length, read.Count);

        var properties = reader.Model.FindEntityType(typeof(TEntity))!.GetProperties().ToList();
        foreach (var expected in rows)
        {
            var actual = read.Single(row => Equals(key(row), key(expected)));
            foreach (var property in properties)
            {
                var expectedValue = property.PropertyInfo!.GetValue(expected);
                var actualValue = property.PropertyInfo.GetValue(actual);
                Assert.True(Equals(expectedValue, actualValue), $"{typeof(TEntity).Name}.{property.Name}: wrote {expectedValue}, read {actualValue}");
                if (actualValue is DateTime timestamp)
                {
                    Assert.Equal(DateTimeKind.Utc, timestamp.Kind);
                }
            }
        }

        // Every timestamp column holds the datetime('now') layout.
        var table = reader.Model.FindEntityType(typeof(TEntity))!.GetTableName()!;
        foreach (var property in properties.Where(p => (Nullable.GetUnderlyingType(p.ClrType) ?? p.ClrType) == typeof(DateTime)))
        {
            await using var command = db.Raw.CreateCommand();
            command.CommandText = $"SELECT {property.GetColumnName()} FROM {table} WHERE {property.GetColumnName()} IS NOT NULL";
            await using var texts = await command.ExecuteReaderAsync(db.Token);
            while (await texts.ReadAsync(db.Token))
            {
                Assert.Matches(Timestamps.StoredPattern, texts.GetString(0));
            }
        }
    }

    private static async Task<object?[]> RowAsync(TestDatabase db, string sql)
    {
        await using var command = db.Raw.CreateCommand();
        command.CommandText = sql;
        await using var reader = await command.ExecuteReaderAsync(db.Token);
        Assert.True(await reader.ReadAsync(db.Token), sql);
        var values = new object?[reader.FieldCount];
        for (var i = 0; i < values.Length; i++)
        {
            values[i] = reader.IsDBNull(i) ? null : reader.GetValue(i);
        }

        Assert.False(await reader.ReadAsync(db.Token), sql);
        return values;
    }
}
