using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata;

namespace Gateway.Data.Tests;

/// <summary>The EF model and the schema the SQL migrations create describe the same tables.</summary>
public sealed class ModelSchemaAgreementTests
{
    private sealed record Column(string Name, string Type, bool NotNull, int PrimaryKeyPosition);

    private sealed record ForeignKey(string Table, string From, string To, string OnDelete);

    [Fact]
    public async Task Every_entity_maps_exactly_the_columns_of_its_table()
    {
        await using var db = await TestDatabase.CreateAsync();
        await using var context = db.NewContext();

        var entityTypes = context.Model.GetEntityTypes().ToList();
        Assert.Equal(
            ["configurations", "gateway_events", "gateway_workflow_owners", "sessions", "tasks", "tool_executions", "workflow_tasks", "workflows"],
            entityTypes.Select(type => type.GetTableName()!).Order(StringComparer.Ordinal));
        Assert.Equal(
            entityTypes.Select(type => type.GetTableName()!).Order(StringComparer.Ordinal),
            await ReadTablesAsync(db));

        foreach (var entityType in entityTypes)
        {
            var table = entityType.GetTableName()!;
            var store = StoreObjectIdentifier.Table(table, entityType.GetSchema());
            var columns = await ReadColumnsAsync(db, table);

            foreach (var property in entityType.GetProperties())
            {
                var name = property.GetColumnName(store);
                var where = $"{entityType.ClrType.Name}.{property.Name} -> {table}.{name}";
                var column = columns.SingleOrDefault(c => c.Name == name);
                Assert.True(column is not null, $"{where}: no such column");

                var providerType = property.GetTypeMapping().Converter?.ProviderClrType ?? property.ClrType;
                providerType = Nullable.GetUnderlyingType(providerType) ?? providerType;
                var expectedType = providerType == typeof(string) ? "TEXT"
                    : providerType == typeof(bool) || providerType == typeof(int) || providerType == typeof(long) ? "INTEGER"
                    : throw new Xunit.Sdk.XunitException($"{where}: unexpected provider type {providerType}");
                Assert.True(expectedType == column.Type, $"{where}: column is {column.Type}, property stores {expectedType}");
                Assert.True(property.GetColumnType() == column.Type, $"{where}: EF column type {property.GetColumnType()}");

                var columnRequired = column.NotNull || column.PrimaryKeyPosition > 0;
                Assert.True(columnRequired == !property.IsNullable, $"{where}: NOT NULL is {column.NotNull}, property nullable is {property.IsNullable}");
            }

            var mapped = entityType.GetProperties().Select(p => p.GetColumnName(store)).ToHashSet(StringComparer.Ordinal);
            var unmapped = columns.Where(c => !mapped.Contains(c.Name)).Select(c => c.Name).ToList();
            Assert.True(unmapped.Count == 0, $"{table}: unmapped columns {string.Join(", ", unmapped)}");

            var primaryKey = columns.Where(c => c.PrimaryKeyPosition > 0).OrderBy(c => c.PrimaryKeyPosition).Select(c => c.Name);
            Assert.Equal(primaryKey, entityType.FindPrimaryKey()!.Properties.Select(p => p.GetColumnName(store)));
        }
    }

    [Fact]
    public async Task Every_relationship_is_a_foreign_key_of_the_schema_with_the_same_delete_rule()
    {
        await using var db = await TestDatabase.CreateAsync();
        await using var context = db.NewContext();

        var modelKeys = new List<ForeignKey>();
        foreach (var entityType in context.Model.GetEntityTypes())
        {
            var store = StoreObjectIdentifier.Table(entityType.GetTableName()!, null);
            foreach (var key in entityType.GetForeignKeys())
            {
                Assert.Single(key.Properties);
                modelKeys.Add(new ForeignKey(
                    key.PrincipalEntityType.GetTableName()!,
                    key.Properties[0].GetColumnName(store)!,
                    key.PrincipalKey.Properties[0].GetColumnName(StoreObjectIdentifier.Table(key.PrincipalEntityType.GetTableName()!, null))!,
                    key.DeleteBehavior == DeleteBehavior.Cascade ? "CASCADE" : key.DeleteBehavior.ToString()));
            }
        }

        var schemaKeys = new List<ForeignKey>();
        foreach (var table in await ReadTablesAsync(db))
        {
            await using var command = db.Raw.CreateCommand();
            command.CommandText = $"SELECT \"table\", \"from\", \"to\", on_delete FROM pragma_foreign_key_list('{table}')";
            await using var reader = await command.ExecuteReaderAsync(db.Token);
            while (await reader.ReadAsync(db.Token))
            {
                schemaKeys.Add(new ForeignKey(reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.GetString(3)));
            }
        }

        Assert.Equal(3, schemaKeys.Count);
        Assert.Equal(schemaKeys.OrderBy(k => k.ToString(), StringComparer.Ordinal), modelKeys.OrderBy(k => k.ToString(), StringComparer.Ordinal));
    }

    [Fact]
    public async Task Trigger_tables_have_updated_at_as_concurrency_token_and_no_returning_clause()
    {
        await using var db = await TestDatabase.CreateAsync();
        await using var context = db.NewContext();

        var triggerTables = new List<string>();
        await using (var command = db.Raw.CreateCommand())
        {
            command.CommandText = "SELECT tbl_name FROM sqlite_master WHERE type = 'trigger' ORDER BY tbl_name";
            await using var reader = await command.ExecuteReaderAsync(db.Token);
            while (await reader.ReadAsync(db.Token))
            {
                triggerTables.Add(reader.GetString(0));
            }
        }

        Assert.Equal(["configurations", "sessions", "tasks", "workflows"], triggerTables);
        foreach (var entityType in context.Model.GetEntityTypes())
        {
            var table = entityType.GetTableName()!;
            var store = StoreObjectIdentifier.Table(table, null);
            var hasTrigger = triggerTables.Contains(table);
            Assert.Equal(!hasTrigger, entityType.IsSqlReturningClauseUsed(store));
            var tokens = entityType.GetProperties().Where(p => p.IsConcurrencyToken).Select(p => p.GetColumnName(store));
            Assert.Equal(hasTrigger ? ["updated_at"] : [], tokens);
        }
    }

    private static async Task<List<string>> ReadTablesAsync(TestDatabase db)
    {
        await using var command = db.Raw.CreateCommand();
        // The bookkeeping, and the cluster tables the server reads and writes with plain SQL (no entity maps them).
        command.CommandText =
            """
            SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'
              AND name NOT IN ('_sqlx_migrations', '_gateway_migrations', 'gateway_log', 'gateway_nodes', 'gateway_signals') ORDER BY name
            """;
        var tables = new List<string>();
        await using var reader = await command.ExecuteReaderAsync(db.Token);
        while (await reader.ReadAsync(db.Token))
        {
            tables.Add(reader.GetString(0));
        }

        return tables;
    }

    private static async Task<List<Column>> ReadColumnsAsync(TestDatabase db, string table)
    {
        await using var command = db.Raw.CreateCommand();
        command.CommandText = $"PRAGMA table_info(\"{table}\")";
        var columns = new List<Column>();
        await using var reader = await command.ExecuteReaderAsync(db.Token);
        while (await reader.ReadAsync(db.Token))
        {
            columns.Add(new Column(reader.GetString(1), reader.GetString(2), reader.GetInt64(3) != 0, reader.GetInt32(5)));
        }

        Assert.NotEmpty(columns);
        return columns;
    }
}
