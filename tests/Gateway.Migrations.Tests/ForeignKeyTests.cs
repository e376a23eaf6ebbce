using Gateway.Testing;
using Microsoft.Data.Sqlite;

namespace Gateway.Migrations.Tests;

/// <summary>Foreign keys refuse orphans (on a connection that turns them on) and cascade deletes to the children.</summary>
public sealed class ForeignKeyTests
{
    private const int SqliteConstraintForeignKey = 787;

    private const string Data =
        """
        INSERT INTO tasks (id, title, task_type) VALUES ('t1', 'Build', 'build'), ('t2', 'Test', 'test');
        INSERT INTO workflows (id, name, definition) VALUES ('w1', 'Release', '{}'), ('w2', 'Nightly', '{}');
        INSERT INTO workflow_tasks (workflow_id, task_id, sequence) VALUES ('w1', 't1', 0), ('w1', 't2', 1), ('w2', 't1', 0), ('w2', 't2', 1);
        INSERT INTO tool_executions (id, task_id, tool_name, arguments) VALUES ('e1', 't1', 'sh', '{}'), ('e2', 't1', 'git', '{}'), ('e3', 't2', 'sh', '{}');
        """;

    [Theory]
    [InlineData("INSERT INTO workflow_tasks (workflow_id, task_id, sequence) VALUES ('no-such-workflow', 't1', 0)")]
    [InlineData("INSERT INTO workflow_tasks (workflow_id, task_id, sequence) VALUES ('w1', 'no-such-task', 0)")]
    [InlineData("INSERT INTO tool_executions (id, task_id, tool_name, arguments) VALUES ('e9', 'no-such-task', 'sh', '{}')")]
    [InlineData("UPDATE workflow_tasks SET task_id = 'no-such-task' WHERE workflow_id = 'w1' AND task_id = 't1'")]
    [InlineData("UPDATE tool_executions SET task_id = 'no-such-task' WHERE id = 'e1'")]
    public async Task Each_foreign_key_refuses_an_orphan(string sql)
    {
        using var database = new TemporarySqliteFile();
        using var connection = await database.OpenMigratedAsync();
        Db.Execute(connection, Data);

        var error = Assert.Throws<SqliteException>(() => Db.Execute(connection, sql));

        Assert.Equal(SqliteConstraintForeignKey, error.SqliteExtendedErrorCode);
        Assert.Contains("FOREIGN KEY constraint failed", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Deleting_a_task_removes_its_workflow_links_and_tool_executions_only()
    {
        using var database = new TemporarySqliteFile();
        using var connection = await database.OpenMigratedAsync();
        Db.Execute(connection, Data);

        Db.Execute(connection, "DELETE FROM tasks WHERE id = 't1'");

        Assert.Equal(["w1 | t2", "w2 | t2"], Db.Rows(connection, "SELECT workflow_id, task_id FROM workflow_tasks ORDER BY workflow_id"));
        Assert.Equal(["e3"], Db.Rows(connection, "SELECT id FROM tool_executions"));
        Assert.Equal(2, Db.Long(connection, "SELECT COUNT(*) FROM workflows"));
    }

    [Fact]
    public async Task Deleting_a_workflow_removes_its_workflow_links_but_not_the_tasks()
    {
        using var database = new TemporarySqliteFile();
        using var connection = await database.OpenMigratedAsync();
        Db.Execute(connection, Data);

        Db.Execute(connection, "DELETE FROM workflows WHERE id = 'w1'");

        Assert.Equal(["w2 | t1", "w2 | t2"], Db.Rows(connection, "SELECT workflow_id, task_id FROM workflow_tasks ORDER BY task_id"));
        Assert.Equal(["t1", "t2"], Db.Rows(connection, "SELECT id FROM tasks ORDER BY id"));
        Assert.Equal(3, Db.Long(connection, "SELECT COUNT(*) FROM tool_executions"));
    }

    [Fact]
    public async Task Enforcement_is_per_connection_so_a_connection_without_foreign_keys_accepts_orphans()
    {
        // Documents why every Gateway connection string sets Foreign Keys=True.
        using var database = new TemporarySqliteFile();
        using (await database.OpenMigratedAsync())
        {
        }

        using var connection = new SqliteConnection(new SqliteConnectionStringBuilder(database.ConnectionString) { ForeignKeys = false }.ConnectionString);
        connection.Open();
        Db.Execute(connection, "INSERT INTO tool_executions (id, task_id, tool_name, arguments) VALUES ('e9', 'no-such-task', 'sh', '{}')");

        Assert.Equal(0, Db.Long(connection, "PRAGMA foreign_keys"));
        Assert.Single(Db.Rows(connection, "PRAGMA foreign_key_check"));
    }
}
