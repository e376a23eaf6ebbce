using System.Text.RegularExpressions;
using Gateway.Testing;

namespace Gateway.Migrations.Tests;

/// <summary>After the seven up migrations: every table, column, index, CHECK, trigger and foreign key is there.</summary>
public sealed partial class SchemaUpTests
{
    // name | declared type | NOT NULL | default | primary-key position, as PRAGMA table_info reports them.
    public static TheoryData<string, string[]> Columns => new()
    {
        {
            "tasks",
            [
                "id | TEXT | 1 | NULL | 1",
                "title | TEXT | 1 | NULL | 0",
                "description | TEXT | 0 | NULL | 0",
                "task_type | TEXT | 1 | NULL | 0",
                "status | TEXT | 1 | 'pending' | 0",
                "config | TEXT | 1 | '{}' | 0",
                "metadata | TEXT | 0 | NULL | 0",
                "workspace_path | TEXT | 0 | NULL | 0",
                "created_at | TEXT | 1 | datetime('now') | 0",
                "updated_at | TEXT | 1 | datetime('now') | 0",
                "started_at | TEXT | 0 | NULL | 0",
                "completed_at | TEXT | 0 | NULL | 0",
                "error | TEXT | 0 | NULL | 0",
            ]
        },
        {
            "workflows",
            [
                "id | TEXT | 1 | NULL | 1",
                "name | TEXT | 1 | NULL | 0",
                "description | TEXT | 0 | NULL | 0",
                "definition | TEXT | 1 | NULL | 0",
                "status | TEXT | 1 | 'draft' | 0",
                "created_at | TEXT | 1 | datetime('now') | 0",
                "updated_at | TEXT | 1 | datetime('now') | 0",
            ]
        },
        {
            "workflow_tasks",
            [
                "workflow_id | TEXT | 1 | NULL | 1",
                "task_id | TEXT | 1 | NULL | 2",
                "sequence | INTEGER | 1 | NULL | 0",
                "created_at | TEXT | 1 | datetime('now') | 0",
            ]
        },
        {
            "tool_executions",
            [
                "id | TEXT | 1 | NULL | 1",
                "task_id | TEXT | 1 | NULL | 0",
                "tool_name | TEXT | 1 | NULL | 0",
                "arguments | TEXT | 1 | NULL | 0",
                "output | TEXT | 0 | NULL | 0",
                "status | TEXT | 1 | 'pending' | 0",
                "error | TEXT | 0 | NULL | 0",
                "created_at | TEXT | 1 | datetime('now') | 0",
                "started_at | TEXT | 0 | NULL | 0",
                "completed_at | TEXT | 0 | NULL | 0",
                "duration_ms | INTEGER | 0 | NULL | 0",
            ]
        },
        {
            "sessions",
            [
                "id | TEXT | 1 | NULL | 1",
                "client_id | TEXT | 1 | NULL | 0",
                "user_id | TEXT | 0 | NULL | 0",
                "connection_type | TEXT | 1 | NULL | 0",
                "is_active | INTEGER | 1 | 1 | 0",
                "metadata | TEXT | 0 | NULL | 0",
                "created_at | TEXT | 1 | datetime('now') | 0",
                "updated_at | TEXT | 1 | datetime('now') | 0",
                "last_heartbeat | TEXT | 1 | datetime('now') | 0",
            ]
        },
        {
            "configurations",
            [
                "key | TEXT | 1 | NULL | 1",
                "value | TEXT | 1 | NULL | 0",
                "value_type | TEXT | 1 | 'string' | 0",
                "description | TEXT | 0 | NULL | 0",
                "is_secret | INTEGER | 1 | 0 | 0",
                "created_at | TEXT | 1 | datetime('now') | 0",
                "updated_at | TEXT | 1 | datetime('now') | 0",
            ]
        },
    };

    // index name | table | columns in key order: the 22 explicit indexes.
    private static readonly string[] ExpectedIndexes =
    [
        "idx_configurations_is_secret | configurations | is_secret",
        "idx_configurations_updated_at | configurations | updated_at",
        "idx_configurations_value_type | configurations | value_type",
        "idx_sessions_client_id | sessions | client_id",
        "idx_sessions_created_at | sessions | created_at",
        "idx_sessions_is_active | sessions | is_active",
        "idx_sessions_last_heartbeat | sessions | last_heartbeat",
        "idx_sessions_user_id | sessions | user_id",
        "idx_tasks_created_at | tasks | created_at",
        "idx_tasks_status | tasks | status",
        "idx_tasks_task_type | tasks | task_type",
        "idx_tasks_workspace_path | tasks | workspace_path",
        "idx_tool_executions_created_at | tool_executions | created_at",
        "idx_tool_executions_status | tool_executions | status",
        "idx_tool_executions_task_id | tool_executions | task_id",
        "idx_tool_executions_tool_name | tool_executions | tool_name",
        "idx_workflow_tasks_sequence | workflow_tasks | workflow_id,sequence",
        "idx_workflow_tasks_task_id | workflow_tasks | task_id",
        "idx_workflow_tasks_workflow_id | workflow_tasks | workflow_id",
        "idx_workflows_created_at | workflows | created_at",
        "idx_workflows_name | workflows | name",
        "idx_workflows_status | workflows | status",
    ];

    private static readonly string[] ExpectedTriggers =
    [
        "trg_configurations_updated_at | configurations",
        "trg_sessions_updated_at | sessions",
        "trg_tasks_updated_at | tasks",
        "trg_workflows_updated_at | workflows",
    ];

    [Fact]
    public async Task Creates_exactly_the_six_tables_and_the_sqlx_bookkeeping_table()
    {
        using var database = new TemporarySqliteFile();
        using var connection = await database.OpenMigratedAsync();

        var tables = Db.Rows(connection, "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name");

        Assert.Equal([Db.SqlxTable, .. Db.Tables], tables);
    }

    [Theory]
    [MemberData(nameof(Columns))]
    public async Task Each_table_has_exactly_its_columns(string table, string[] expected)
    {
        using var database = new TemporarySqliteFile();
        using var connection = await database.OpenMigratedAsync();

        var columns = Db.Rows(
            connection,
            $"SELECT name, type, \"notnull\", dflt_value, pk FROM pragma_table_info('{table}') ORDER BY cid");

        Assert.Equal(expected, columns);
    }

    [Fact]
    public async Task Creates_the_22_explicit_indexes_on_the_expected_columns()
    {
        using var database = new TemporarySqliteFile();
        using var connection = await database.OpenMigratedAsync();

        var indexes = Db.Rows(
            connection,
            """
            SELECT m.name, m.tbl_name,
                   (SELECT group_concat(name, ',') FROM (SELECT name FROM pragma_index_info(m.name) ORDER BY seqno))
            FROM sqlite_master m
            WHERE m.type = 'index' AND m.sql IS NOT NULL
            ORDER BY m.name
            """);

        Assert.Equal(22, indexes.Count);
        Assert.Equal(ExpectedIndexes, indexes);
    }

    [Theory]
    [InlineData("tasks", 4)]
    [InlineData("workflows", 3)]
    [InlineData("workflow_tasks", 3)]
    [InlineData("tool_executions", 4)]
    [InlineData("sessions", 5)]
    [InlineData("configurations", 3)]
    public async Task Each_table_has_its_number_of_explicit_indexes(string table, int expected)
    {
        using var database = new TemporarySqliteFile();
        using var connection = await database.OpenMigratedAsync();

        var count = Db.Long(
            connection,
            $"SELECT COUNT(*) FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL AND tbl_name = '{table}'");

        Assert.Equal(expected, count);
    }

    [Fact]
    public async Task The_schema_has_11_check_constraints()
    {
        using var database = new TemporarySqliteFile();
        using var connection = await database.OpenMigratedAsync();

        var sql = Db.Rows(connection, "SELECT sql FROM sqlite_master WHERE type = 'table' AND name NOT LIKE '\\_%' ESCAPE '\\'");

        Assert.Equal(11, sql.Sum(CountChecks));
    }

    [Theory]
    [InlineData("tasks", 2)]
    [InlineData("workflows", 2)]
    [InlineData("workflow_tasks", 1)]
    [InlineData("tool_executions", 2)]
    [InlineData("sessions", 2)]
    [InlineData("configurations", 2)]
    public async Task Each_table_has_its_number_of_check_constraints(string table, int expected)
    {
        using var database = new TemporarySqliteFile();
        using var connection = await database.OpenMigratedAsync();

        var sql = Db.Text(connection, $"SELECT sql FROM sqlite_master WHERE type = 'table' AND name = '{table}'");

        Assert.Equal(expected, CountChecks(sql!));
    }

    [Fact]
    public async Task Creates_the_four_updated_at_triggers_after_update()
    {
        using var database = new TemporarySqliteFile();
        using var connection = await database.OpenMigratedAsync();

        var triggers = Db.Rows(connection, "SELECT name, tbl_name FROM sqlite_master WHERE type = 'trigger' ORDER BY name");
        var bodies = Db.Rows(connection, "SELECT tbl_name, sql FROM sqlite_master WHERE type = 'trigger'");

        Assert.Equal(ExpectedTriggers, triggers);
        Assert.All(bodies, row =>
        {
            var table = row[..row.IndexOf(' ', StringComparison.Ordinal)];
            Assert.Contains($"AFTER UPDATE ON {table}", row, StringComparison.Ordinal);
            Assert.Contains("WHEN NEW.updated_at = OLD.updated_at", row, StringComparison.Ordinal);
        });
    }

    [Theory]
    [InlineData("workflow_tasks", new[] { "tasks | task_id | id | CASCADE", "workflows | workflow_id | id | CASCADE" })]
    [InlineData("tool_executions", new[] { "tasks | task_id | id | CASCADE" })]
    [InlineData("tasks", new string[0])]
    [InlineData("workflows", new string[0])]
    [InlineData("sessions", new string[0])]
    [InlineData("configurations", new string[0])]
    public async Task Foreign_keys_reference_their_parents_with_on_delete_cascade(string table, string[] expected)
    {
        using var database = new TemporarySqliteFile();
        using var connection = await database.OpenMigratedAsync();

        var keys = Db.Rows(
            connection,
            $"SELECT \"table\", \"from\", \"to\", on_delete FROM pragma_foreign_key_list('{table}') ORDER BY \"table\"");

        Assert.Equal(expected, keys);
        Assert.Empty(Db.Rows(connection, "PRAGMA foreign_key_check"));
    }

    [Fact]
    public async Task Records_the_seven_versions_with_their_descriptions()
    {
        using var database = new TemporarySqliteFile();
        using var connection = await database.OpenMigratedAsync();

        var rows = Db.Rows(connection, $"SELECT version, description, success FROM {Db.SqlxTable} ORDER BY version");

        Assert.Equal(Db.OrchestratorMigrations.Select(m => $"{m.Version} | {m.Description} | 1"), rows);
        Assert.Equal("ok", Db.Text(connection, "PRAGMA integrity_check"));
    }

    [Fact]
    public async Task Defaults_fill_status_config_and_utc_timestamps()
    {
        using var database = new TemporarySqliteFile();
        using var connection = await database.OpenMigratedAsync();
        Db.Execute(connection, "INSERT INTO tasks (id, title, task_type) VALUES ('t1', 'Build', 'build')");
        Db.Execute(connection, "INSERT INTO sessions (id, client_id, connection_type) VALUES ('s1', 'c1', 'websocket')");
        Db.Execute(connection, "INSERT INTO configurations (key, value) VALUES ('k', 'v')");

        var task = Db.Rows(connection, "SELECT status, config, created_at, updated_at FROM tasks")[0].Split(" | ");
        var session = Db.Rows(connection, "SELECT is_active, last_heartbeat FROM sessions")[0].Split(" | ");
        var configuration = Db.Rows(connection, "SELECT value_type, is_secret FROM configurations")[0];

        Assert.Equal("pending", task[0]);
        Assert.Equal("{}", task[1]);
        Assert.Matches(Timestamp(), task[2]);
        Assert.Matches(Timestamp(), task[3]);
        Assert.Equal("1", session[0]);
        Assert.Matches(Timestamp(), session[1]);
        Assert.Equal("string | 0", configuration);
        var created = DateTime.ParseExact(task[2], "yyyy-MM-dd HH:mm:ss", System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(created, DateTime.UtcNow.AddMinutes(-1), DateTime.UtcNow.AddMinutes(1));
    }

    /// <summary>Counts CHECK constraints in a CREATE TABLE text, ignoring the word in -- comments.</summary>
    private static int CountChecks(string createTable) =>
        CheckKeyword().Count(SqlComment().Replace(createTable, string.Empty));

    [GeneratedRegex(@"--[^\n]*")]
    private static partial Regex SqlComment();

    [GeneratedRegex(@"\bCHECK\s*\(")]
    private static partial Regex CheckKeyword();

    [GeneratedRegex(@"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$")]
    private static partial Regex Timestamp();
}
