using Gateway.Testing;
using Microsoft.Data.Sqlite;

namespace Gateway.Migrations.Tests;

/// <summary>Each of the 11 CHECK constraints refuses a bad value and accepts a good one; every enum value is accepted.</summary>
public sealed class ConstraintTests
{
    private const int SqliteConstraintCheck = 275;
    private const int SqliteConstraintNotNull = 1299;

    private const string Parents =
        """
        INSERT INTO tasks (id, title, task_type) VALUES ('t1', 'Build', 'build');
        INSERT INTO workflows (id, name, definition) VALUES ('w1', 'Release', '{"steps":[]}');
        """;

    // CHECK | a row it refuses | the same row with a good value.
    public static TheoryData<string, string, string> Checks => new()
    {
        {
            "tasks.status",
            "INSERT INTO tasks (id, title, task_type, status) VALUES ('x', 'T', 'k', 'done')",
            "INSERT INTO tasks (id, title, task_type, status) VALUES ('x', 'T', 'k', 'queued')"
        },
        {
            "tasks json_valid(config)",
            "INSERT INTO tasks (id, title, task_type, config) VALUES ('x', 'T', 'k', 'not json')",
            "INSERT INTO tasks (id, title, task_type, config) VALUES ('x', 'T', 'k', '{\"retries\":3}')"
        },
        {
            "tasks json_valid(metadata) (same CHECK as config)",
            "INSERT INTO tasks (id, title, task_type, metadata) VALUES ('x', 'T', 'k', '{unclosed')",
            "INSERT INTO tasks (id, title, task_type, metadata) VALUES ('x', 'T', 'k', '[1,2]')"
        },
        {
            "workflows json_valid(definition)",
            "INSERT INTO workflows (id, name, definition) VALUES ('x', 'W', 'steps: []')",
            "INSERT INTO workflows (id, name, definition) VALUES ('x', 'W', '{\"steps\":[]}')"
        },
        {
            "workflows.status",
            "INSERT INTO workflows (id, name, definition, status) VALUES ('x', 'W', '{}', 'running')",
            "INSERT INTO workflows (id, name, definition, status) VALUES ('x', 'W', '{}', 'completed')"
        },
        {
            "workflow_tasks.sequence >= 0",
            "INSERT INTO workflow_tasks (workflow_id, task_id, sequence) VALUES ('w1', 't1', -1)",
            "INSERT INTO workflow_tasks (workflow_id, task_id, sequence) VALUES ('w1', 't1', 0)"
        },
        {
            "tool_executions.status",
            "INSERT INTO tool_executions (id, task_id, tool_name, arguments, status) VALUES ('x', 't1', 'sh', '{}', 'done')",
            "INSERT INTO tool_executions (id, task_id, tool_name, arguments, status) VALUES ('x', 't1', 'sh', '{}', 'cancelled')"
        },
        {
            "tool_executions.duration_ms >= 0",
            "INSERT INTO tool_executions (id, task_id, tool_name, arguments, duration_ms) VALUES ('x', 't1', 'sh', '{}', -5)",
            "INSERT INTO tool_executions (id, task_id, tool_name, arguments, duration_ms) VALUES ('x', 't1', 'sh', '{}', 0)"
        },
        {
            "sessions.connection_type",
            "INSERT INTO sessions (id, client_id, connection_type) VALUES ('x', 'c', 'carrier_pigeon')",
            "INSERT INTO sessions (id, client_id, connection_type) VALUES ('x', 'c', 'long_polling')"
        },
        {
            "sessions.is_active",
            "INSERT INTO sessions (id, client_id, connection_type, is_active) VALUES ('x', 'c', 'http', 2)",
            "INSERT INTO sessions (id, client_id, connection_type, is_active) VALUES ('x', 'c', 'http', 0)"
        },
        {
            "configurations.value_type",
            "INSERT INTO configurations (key, value, value_type) VALUES ('x', '2025-01-15', 'date')",
            "INSERT INTO configurations (key, value, value_type) VALUES ('x', '{}', 'json')"
        },
        {
            "configurations.is_secret",
            "INSERT INTO configurations (key, value, is_secret) VALUES ('x', 'v', 2)",
            "INSERT INTO configurations (key, value, is_secret) VALUES ('x', 'v', 1)"
        },
    };

    // Every value of every enum set; the orchestrator's (acolib's) values are a subset of each.
    public static TheoryData<string, string> EnumValues()
    {
        var data = new TheoryData<string, string>();
        foreach (var status in new[] { "pending", "queued", "running", "paused", "completed", "failed", "cancelled" })
        {
            data.Add("tasks.status", $"INSERT INTO tasks (id, title, task_type, status) VALUES ('x', 'T', 'k', '{status}')");
        }

        foreach (var status in new[] { "draft", "active", "paused", "completed", "failed", "cancelled", "archived" })
        {
            data.Add("workflows.status", $"INSERT INTO workflows (id, name, definition, status) VALUES ('x', 'W', '{{}}', '{status}')");
        }

        foreach (var status in new[] { "pending", "running", "completed", "failed", "timeout", "cancelled" })
        {
            data.Add("tool_executions.status", $"INSERT INTO tool_executions (id, task_id, tool_name, arguments, status) VALUES ('x', 't1', 'sh', '{{}}', '{status}')");
        }

        foreach (var type in new[] { "websocket", "http", "grpc", "server_sent_events", "long_polling" })
        {
            data.Add("sessions.connection_type", $"INSERT INTO sessions (id, client_id, connection_type) VALUES ('x', 'c', '{type}')");
        }

        foreach (var type in new[] { "string", "integer", "float", "boolean", "json" })
        {
            data.Add("configurations.value_type", $"INSERT INTO configurations (key, value, value_type) VALUES ('x', 'v', '{type}')");
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Checks))]
    public async Task Check_refuses_a_bad_value_and_accepts_a_good_one(string check, string bad, string good)
    {
        using var database = new TemporarySqliteFile();
        using var connection = await database.OpenMigratedAsync();
        Db.Execute(connection, Parents);

        var error = Assert.Throws<SqliteException>(() => Db.Execute(connection, bad));
        Db.Execute(connection, good);

        Assert.True(error.SqliteExtendedErrorCode == SqliteConstraintCheck, $"{check}: {error.Message}");
        Assert.Contains("CHECK constraint failed", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(EnumValues))]
    public async Task Every_value_of_every_enum_set_is_accepted(string column, string insert)
    {
        using var database = new TemporarySqliteFile();
        using var connection = await database.OpenMigratedAsync();
        Db.Execute(connection, Parents);

        Db.Execute(connection, insert);

        Assert.False(string.IsNullOrEmpty(column));
    }

    [Theory]
    [InlineData("INSERT INTO tasks (id, title, task_type, status) VALUES ('x', 'T', 'k', 'PENDING')")]
    [InlineData("INSERT INTO sessions (id, client_id, connection_type) VALUES ('x', 'c', 'WebSockets')")]
    [InlineData("INSERT INTO sessions (id, client_id, connection_type) VALUES ('x', 'c', 'ServerSentEvents')")]
    [InlineData("INSERT INTO sessions (id, client_id, connection_type, is_active) VALUES ('x', 'c', 'http', 'yes')")]
    [InlineData("INSERT INTO configurations (key, value, is_secret) VALUES ('x', 'v', -1)")]
    [InlineData("INSERT INTO tasks (id, title, task_type, config) VALUES ('x', 'T', 'k', '')")]
    public async Task Enum_values_are_lower_case_snake_case_and_booleans_are_0_or_1(string insert)
    {
        using var database = new TemporarySqliteFile();
        using var connection = await database.OpenMigratedAsync();

        var error = Assert.Throws<SqliteException>(() => Db.Execute(connection, insert));

        Assert.Equal(SqliteConstraintCheck, error.SqliteExtendedErrorCode);
    }

    [Theory]
    [InlineData("INSERT INTO tasks (id, title, task_type, config) VALUES ('x', 'T', 'k', NULL)")]
    [InlineData("INSERT INTO workflows (id, name, definition) VALUES ('x', 'W', NULL)")]
    [InlineData("INSERT INTO tool_executions (id, task_id, tool_name, arguments) VALUES ('x', 't1', 'sh', NULL)")]
    [InlineData("INSERT INTO sessions (id, client_id, connection_type) VALUES ('x', 'c', NULL)")]
    [InlineData("INSERT INTO configurations (key, value) VALUES ('x', NULL)")]
    [InlineData("INSERT INTO tasks (id, title, task_type) VALUES (NULL, 'T', 'k')")]
    public async Task Required_columns_refuse_null(string insert)
    {
        using var database = new TemporarySqliteFile();
        using var connection = await database.OpenMigratedAsync();
        Db.Execute(connection, Parents);

        var error = Assert.Throws<SqliteException>(() => Db.Execute(connection, insert));

        Assert.Equal(SqliteConstraintNotNull, error.SqliteExtendedErrorCode);
    }
}
