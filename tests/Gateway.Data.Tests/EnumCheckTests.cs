using System.Text.RegularExpressions;
using Gateway.Data.Conversion;
using Gateway.Data.Entities;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata;

namespace Gateway.Data.Tests;

/// <summary>The C# enums and the schema's CHECK ... IN (...) sets are the same sets.</summary>
public sealed partial class EnumCheckTests
{
    [Fact]
    public async Task Every_enum_property_has_exactly_the_values_its_check_constraint_lists()
    {
        await using var db = await TestDatabase.CreateAsync();
        await using var context = db.NewContext();

        var checked_ = new List<string>();
        foreach (var entityType in context.Model.GetEntityTypes())
        {
            var table = entityType.GetTableName()!;
            var sql = await db.TextAsync("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = $name", ("$name", table));
            foreach (var property in entityType.GetProperties().Where(p => p.ClrType.IsEnum))
            {
                var column = property.GetColumnName(StoreObjectIdentifier.Table(table, null))!;
                var converter = property.GetTypeMapping().Converter!;
                var enumValues = Enum.GetValues(property.ClrType).Cast<object>()
                    .Select(value => (string)converter.ConvertToProvider(value)!)
                    .Order(StringComparer.Ordinal);

                var lists = CheckInList().Matches(sql!).Where(m => m.Groups["column"].Value == column).ToList();
                var list = Assert.Single(lists);
                var checkValues = QuotedValue().Matches(list.Groups["values"].Value).Select(m => m.Groups[1].Value).Order(StringComparer.Ordinal);

                Assert.Equal(checkValues, enumValues);
                checked_.Add($"{table}.{column}");
            }
        }

        Assert.Equal(
            ["configurations.value_type", "sessions.connection_type", "tasks.status", "tool_executions.status", "workflows.status"],
            checked_.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Enum_store_values_are_the_documented_sets()
    {
        Assert.Equal(["pending", "queued", "running", "paused", "completed", "failed", "cancelled"], StoreEnum.StoreValues<AgentTaskStatus>());
        Assert.Equal(["draft", "active", "paused", "completed", "failed", "cancelled", "archived"], StoreEnum.StoreValues<WorkflowStatus>());
        Assert.Equal(["pending", "running", "completed", "failed", "timeout", "cancelled"], StoreEnum.StoreValues<ToolExecutionStatus>());
        Assert.Equal(["websocket", "http", "grpc", "server_sent_events", "long_polling"], StoreEnum.StoreValues<SessionConnectionType>());
        Assert.Equal(["string", "integer", "float", "boolean", "json"], StoreEnum.StoreValues<ConfigurationValueType>());
    }

    [Fact]
    public async Task Every_task_status_round_trips_and_passes_the_check()
        => await RoundTripAllAsync<AgentTaskStatus, AgentTask>(
            "tasks", "status", (id, value) => new AgentTask { Id = id, Title = "t", TaskType = "x", Status = value }, row => row.Status);

    [Fact]
    public async Task Every_workflow_status_round_trips_and_passes_the_check()
        => await RoundTripAllAsync<WorkflowStatus, Workflow>(
            "workflows", "status", (id, value) => new Workflow { Id = id, Name = "w", Definition = "{}", Status = value }, row => row.Status);

    [Fact]
    public async Task Every_tool_execution_status_round_trips_and_passes_the_check()
        => await RoundTripAllAsync<ToolExecutionStatus, ToolExecution>(
            "tool_executions",
            "status",
            (id, value) => new ToolExecution
            {
                Id = id,
                ToolName = "t",
                Arguments = "{}",
                Status = value,
                AgentTask = new AgentTask { Id = "task-" + id, Title = "t", TaskType = "x" },
            },
            row => row.Status);

    [Fact]
    public async Task Every_session_connection_type_round_trips_and_passes_the_check()
        => await RoundTripAllAsync<SessionConnectionType, GatewaySession>(
            "sessions", "connection_type", (id, value) => new GatewaySession { Id = id, ClientId = "c", ConnectionType = value }, row => row.ConnectionType);

    [Fact]
    public async Task Every_configuration_value_type_round_trips_and_passes_the_check()
        => await RoundTripAllAsync<ConfigurationValueType, ConfigurationEntry>(
            "configurations", "value_type", (id, value) => new ConfigurationEntry { Key = id, Value = "v", ValueType = value }, row => row.ValueType);

    [Fact]
    public async Task A_value_outside_the_set_is_refused_by_the_check()
    {
        await using var db = await TestDatabase.CreateAsync();
        var error = await Assert.ThrowsAsync<Microsoft.Data.Sqlite.SqliteException>(
            () => db.ExecuteAsync("INSERT INTO sessions (id, client_id, connection_type) VALUES ('s', 'c', 'ServerSentEvents')"));
        Assert.Contains("CHECK", error.Message, StringComparison.Ordinal);
    }

    private static async Task RoundTripAllAsync<TEnum, TEntity>(string table, string column, Func<string, TEnum, TEntity> create, Func<TEntity, TEnum> read)
        where TEnum : struct, Enum
        where TEntity : class
    {
        await using var db = await TestDatabase.CreateAsync();
        var values = Enum.GetValues<TEnum>();
        await using (var writer = db.NewContext())
        {
            foreach (var value in values)
            {
                writer.Add(create(value.ToString(), value));
            }

            await writer.SaveChangesAsync(db.Token);
        }

        await using var reader = db.NewContext();
        var rows = await reader.Set<TEntity>().AsNoTracking().ToListAsync(db.Token);
        Assert.Equal(values.Order(), rows.Select(read).Order());
        foreach (var value in values)
        {
            var key = table == "configurations" ? "key" : "id";
            Assert.Equal(
                StoreEnum.ToStoreValue(value),
                await db.TextAsync($"SELECT {column} FROM {table} WHERE {key} = $id", ("$id", value.ToString())));
        }
    }

    [GeneratedRegex(@"CHECK\s*\(\s*(?<column>\w+)\s+IN\s*\((?<values>[^)]*)\)\s*\)", RegexOptions.IgnoreCase)]
    private static partial Regex CheckInList();

    [GeneratedRegex(@"'([^']*)'")]
    private static partial Regex QuotedValue();
}
