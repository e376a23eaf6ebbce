using Gateway.Data.Entities;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Gateway.Data.Tests;

/// <summary>Connections opened through <see cref="GatewayDataServiceCollectionExtensions.AddGatewayDbContext"/> enforce foreign keys.</summary>
public sealed class ForeignKeyTests
{
    [Theory]
    [InlineData(null)]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Every_connection_has_foreign_keys_on_and_synchronous_normal(bool? foreignKeysInConnectionString)
    {
        await using var db = await TestDatabase.CreateAsync(file => new SqliteConnectionStringBuilder
        {
            DataSource = file.Path,
            Pooling = false,
            ForeignKeys = foreignKeysInConnectionString,
        }.ConnectionString);

        // Scoped registration, as a request would get it.
        await using var scope = db.Services.CreateAsyncScope();
        var context = scope.ServiceProvider.GetRequiredService<GatewayDbContext>();
        await context.Database.OpenConnectionAsync(db.Token);
        await using var command = context.Database.GetDbConnection().CreateCommand();
        command.CommandText = "SELECT (SELECT foreign_keys FROM pragma_foreign_keys) || ',' || (SELECT synchronous FROM pragma_synchronous)";
        Assert.Equal("1,1", await command.ExecuteScalarAsync(db.Token)); // synchronous 1 = NORMAL
    }

    [Fact]
    public async Task Inserting_a_workflow_task_for_an_unknown_task_throws()
    {
        await using var db = await TestDatabase.CreateAsync();
        await using var context = db.NewContext();
        context.Workflows.Add(new Workflow { Id = "w", Name = "w", Definition = "{}" });
        await context.SaveChangesAsync(db.Token);

        context.WorkflowTasks.Add(new WorkflowTask { WorkflowId = "w", TaskId = "no-such-task", Sequence = 0 });
        var error = await Assert.ThrowsAsync<DbUpdateException>(() => context.SaveChangesAsync(db.Token));
        var sqlite = Assert.IsType<SqliteException>(error.InnerException);
        Assert.Equal(19, sqlite.SqliteErrorCode); // SQLITE_CONSTRAINT
        Assert.Contains("FOREIGN KEY", sqlite.Message, StringComparison.Ordinal);
        Assert.Equal(0, await db.LongAsync("SELECT COUNT(*) FROM workflow_tasks"));
    }

    [Fact]
    public async Task Inserting_a_tool_execution_for_an_unknown_task_throws()
    {
        await using var db = await TestDatabase.CreateAsync();
        await using var context = db.NewContext();
        context.ToolExecutions.Add(new ToolExecution { Id = "e", TaskId = "no-such-task", ToolName = "t", Arguments = "{}" });
        var error = await Assert.ThrowsAsync<DbUpdateException>(() => context.SaveChangesAsync(db.Token));
        Assert.Contains("FOREIGN KEY", error.InnerException!.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Deleting_a_task_cascades_to_its_tool_executions_and_workflow_tasks_in_the_database()
    {
        await using var db = await TestDatabase.CreateAsync();
        await SeedAsync(db);

        // Only the task is loaded: the dependents go by the schema's ON DELETE CASCADE, not by EF.
        await using (var context = db.NewContext())
        {
            var task = await context.Tasks.SingleAsync(t => t.Id == "t1", db.Token);
            context.Tasks.Remove(task);
            Assert.Equal(1, await context.SaveChangesAsync(db.Token));
        }

        Assert.Equal(0, await db.LongAsync("SELECT COUNT(*) FROM tool_executions WHERE task_id = 't1'"));
        Assert.Equal(0, await db.LongAsync("SELECT COUNT(*) FROM workflow_tasks WHERE task_id = 't1'"));
        Assert.Equal(1, await db.LongAsync("SELECT COUNT(*) FROM tool_executions WHERE task_id = 't2'"));
        Assert.Equal(1, await db.LongAsync("SELECT COUNT(*) FROM workflow_tasks WHERE task_id = 't2'"));
        Assert.Equal(1, await db.LongAsync("SELECT COUNT(*) FROM workflows"));
    }

    [Fact]
    public async Task Deleting_a_workflow_cascades_to_its_links_but_not_to_the_tasks()
    {
        await using var db = await TestDatabase.CreateAsync();
        await SeedAsync(db);

        await using (var context = db.NewContext())
        {
            Assert.Equal(1, await context.Workflows.Where(w => w.Id == "w").ExecuteDeleteAsync(db.Token));
        }

        Assert.Equal(0, await db.LongAsync("SELECT COUNT(*) FROM workflow_tasks"));
        Assert.Equal(2, await db.LongAsync("SELECT COUNT(*) FROM tasks"));
        Assert.Equal(3, await db.LongAsync("SELECT COUNT(*) FROM tool_executions"));
    }

    private static async Task SeedAsync(TestDatabase db)
    {
        await using var context = db.NewContext();
        var t1 = new AgentTask { Id = "t1", Title = "one", TaskType = "x" };
        var t2 = new AgentTask { Id = "t2", Title = "two", TaskType = "x" };
        t1.ToolExecutions.Add(new ToolExecution { Id = "e1", ToolName = "a", Arguments = "{}" });
        t1.ToolExecutions.Add(new ToolExecution { Id = "e2", ToolName = "b", Arguments = "{}" });
        t2.ToolExecutions.Add(new ToolExecution { Id = "e3", ToolName = "c", Arguments = "{}" });
        var workflow = new Workflow { Id = "w", Name = "w", Definition = "{}" };
        workflow.Tasks.Add(new WorkflowTask { AgentTask = t1, Sequence = 0 });
        workflow.Tasks.Add(new WorkflowTask { AgentTask = t2, Sequence = 1 });
        context.AddRange(t1, t2, workflow);
        Assert.Equal(8, await context.SaveChangesAsync(db.Token));
    }
}
