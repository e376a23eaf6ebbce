using System.Globalization;
using Gateway.Testing;
using Microsoft.Data.Sqlite;

namespace Gateway.Migrations.Tests;

/// <summary>
/// The four updated_at triggers: an UPDATE that leaves updated_at unchanged gets datetime('now'); an explicit
/// updated_at is left alone; the trigger never recurses, even with PRAGMA recursive_triggers = ON.
/// </summary>
public sealed class TriggerTests
{
    private const string Old = "2000-01-01 00:00:00";

    // table | key column | INSERT of row 'a' and row 'b' with updated_at = Old | SET clause changing another column.
    public static TheoryData<string, string, string, string> Tables => new()
    {
        {
            "tasks", "id",
            $"INSERT INTO tasks (id, title, task_type, updated_at) VALUES ('a', 'A', 'k', '{Old}'), ('b', 'B', 'k', '{Old}')",
            "status = 'running'"
        },
        {
            "workflows", "id",
            $"INSERT INTO workflows (id, name, definition, updated_at) VALUES ('a', 'A', '{{}}', '{Old}'), ('b', 'B', '{{}}', '{Old}')",
            "status = 'active'"
        },
        {
            "sessions", "id",
            $"INSERT INTO sessions (id, client_id, connection_type, updated_at) VALUES ('a', 'c', 'websocket', '{Old}'), ('b', 'c', 'websocket', '{Old}')",
            "last_heartbeat = '2030-01-01 00:00:00'"
        },
        {
            "configurations", "key",
            $"INSERT INTO configurations (key, value, updated_at) VALUES ('a', '1', '{Old}'), ('b', '1', '{Old}')",
            "value = '2'"
        },
    };

    // table | one statement that inserts row 'a' (updated_at defaults to this statement's 'now') and then
    // updates it through ON CONFLICT: OLD.updated_at already equals datetime('now') when the trigger runs.
    public static TheoryData<string, string> SameSecondUpserts => new()
    {
        { "tasks", "INSERT INTO tasks (id, title, task_type) VALUES ('a', 'A', 'k'), ('a', 'B', 'k') ON CONFLICT (id) DO UPDATE SET title = excluded.title" },
        { "workflows", "INSERT INTO workflows (id, name, definition) VALUES ('a', 'A', '{}'), ('a', 'B', '{}') ON CONFLICT (id) DO UPDATE SET name = excluded.name" },
        { "sessions", "INSERT INTO sessions (id, client_id, connection_type) VALUES ('a', 'c', 'http'), ('a', 'c', 'grpc') ON CONFLICT (id) DO UPDATE SET connection_type = excluded.connection_type" },
        { "configurations", "INSERT INTO configurations (key, value) VALUES ('a', '1'), ('a', '2') ON CONFLICT (key) DO UPDATE SET value = excluded.value" },
    };

    [Theory]
    [MemberData(nameof(Tables))]
    public async Task An_update_that_leaves_updated_at_alone_sets_it_to_now(string table, string key, string insert, string set)
    {
        using var database = new TemporarySqliteFile();
        using var connection = await database.OpenMigratedAsync();
        Db.Execute(connection, insert);

        Db.Execute(connection, $"UPDATE {table} SET {set} WHERE {key} = 'a'");

        AssertIsNow(Db.Text(connection, $"SELECT updated_at FROM {table} WHERE {key} = 'a'"));
        Assert.Equal(Old, Db.Text(connection, $"SELECT updated_at FROM {table} WHERE {key} = 'b'"));
    }

    [Theory]
    [MemberData(nameof(Tables))]
    public async Task An_update_that_sets_updated_at_keeps_that_value(string table, string key, string insert, string set)
    {
        using var database = new TemporarySqliteFile();
        using var connection = await database.OpenMigratedAsync();
        Db.Execute(connection, insert);

        Db.Execute(connection, $"UPDATE {table} SET {set}, updated_at = '2001-02-03 04:05:06.1234567' WHERE {key} = 'a'");

        Assert.Equal("2001-02-03 04:05:06.1234567", Db.Text(connection, $"SELECT updated_at FROM {table} WHERE {key} = 'a'"));
    }

    [Theory]
    [MemberData(nameof(Tables))]
    public async Task Does_not_recurse_with_recursive_triggers_on(string table, string key, string insert, string set)
    {
        using var database = new TemporarySqliteFile();
        using var connection = await database.OpenMigratedAsync();
        Db.Execute(connection, "PRAGMA recursive_triggers = ON");
        Db.Execute(connection, insert);

        Db.Execute(connection, $"UPDATE {table} SET {set} WHERE {key} IN ('a', 'b')");

        Assert.Equal(1, Db.Long(connection, "PRAGMA recursive_triggers"));
        AssertIsNow(Db.Text(connection, $"SELECT updated_at FROM {table} WHERE {key} = 'a'"));
        AssertIsNow(Db.Text(connection, $"SELECT updated_at FROM {table} WHERE {key} = 'b'"));
    }

    [Theory]
    [MemberData(nameof(SameSecondUpserts))]
    public async Task Does_not_recurse_when_updated_at_is_already_the_current_second_without_recursive_triggers(string table, string upsert)
    {
        using var database = new TemporarySqliteFile();
        using var connection = await database.OpenMigratedAsync();

        Db.Execute(connection, upsert);

        Assert.Equal(1, Db.Long(connection, $"SELECT COUNT(*) FROM {table}"));
    }

    /// <summary>
    /// The realistic case is an INSERT and an UPDATE of the same row within one second (create a task, then
    /// mark it running). The single UPSERT makes it deterministic: 'now' is fixed for one statement.
    /// </summary>
    [Theory]
    [MemberData(nameof(SameSecondUpserts))]
    public async Task Does_not_recurse_when_updated_at_is_already_the_current_second_with_recursive_triggers_on(string table, string upsert)
    {
        using var database = new TemporarySqliteFile();
        using var connection = await database.OpenMigratedAsync();
        Db.Execute(connection, "PRAGMA recursive_triggers = ON");

        var error = Record.Exception(() => Db.Execute(connection, upsert));

        Assert.True(
            error is null,
            $"trg_{table}_updated_at recursed: its WHEN NEW.updated_at = OLD.updated_at is still true after its own UPDATE "
            + $"when OLD.updated_at already equals datetime('now'). {(error as SqliteException)?.Message}");
        Assert.Equal(1, Db.Long(connection, $"SELECT COUNT(*) FROM {table}"));
    }

    private static void AssertIsNow(string? value)
    {
        Assert.NotNull(value);
        Assert.NotEqual(Old, value);
        var parsed = DateTime.ParseExact(value, "yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal);
        Assert.InRange(parsed, DateTime.UtcNow.AddMinutes(-1), DateTime.UtcNow.AddMinutes(1));
    }
}
