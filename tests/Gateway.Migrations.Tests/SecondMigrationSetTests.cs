using Gateway.Testing;
using Microsoft.Data.Sqlite;

namespace Gateway.Migrations.Tests;

/// <summary>Gateway's own migrations live beside the orchestrator's, with their own bookkeeping table.</summary>
public sealed class SecondMigrationSetTests
{
    private const long GatewayVersion = 20250301000000;

    [Fact]
    public async Task Gateway_rows_go_to_their_own_table_and_the_orchestrator_set_still_validates()
    {
        using var database = new TemporarySqliteFile();
        using var connection = await database.OpenMigratedAsync();
        var gateway = GatewayMigrator(connection, GatewaySource(database));
        var orchestratorRows = Db.Bookkeeping(connection);

        var applied = await gateway.RunAsync(null, CancellationToken.None);

        Assert.Equal([GatewayVersion], applied.Select(m => m.Version));
        Assert.True(Db.TableExists(connection, "gateway_events"));
        Assert.Equal(
            [$"{GatewayVersion} | create gateway events | 1"],
            Db.Rows(connection, $"SELECT version, description, success FROM {MigrationSet.GatewayBookkeepingTable}"));
        Assert.Equal(orchestratorRows, Db.Bookkeeping(connection));
        Assert.Equal(Db.OrchestratorMigrations.Select(m => m.Version), Db.AppliedVersions(connection));

        var orchestrator = Db.Migrator(connection);
        await orchestrator.ValidateAsync(CancellationToken.None);
        Assert.Empty(await orchestrator.RunAsync(null, CancellationToken.None));
        Assert.All(await orchestrator.InfoAsync(CancellationToken.None), l => Assert.Equal(MigrationState.Applied, l.State));
        Assert.Empty(await gateway.RunAsync(null, CancellationToken.None));
    }

    [Fact]
    public async Task The_gateway_bookkeeping_table_has_the_sqlx_form()
    {
        using var database = new TemporarySqliteFile();
        using var connection = await database.OpenMigratedAsync();
        await GatewayMigrator(connection, GatewaySource(database)).RunAsync(null, CancellationToken.None);
        const string Columns = "SELECT name, type, \"notnull\", dflt_value, pk FROM pragma_table_info('{0}') ORDER BY cid";

        Assert.Equal(
            Db.Rows(connection, string.Format(System.Globalization.CultureInfo.InvariantCulture, Columns, Db.SqlxTable)),
            Db.Rows(connection, string.Format(System.Globalization.CultureInfo.InvariantCulture, Columns, MigrationSet.GatewayBookkeepingTable)));
        Assert.Equal("blob", Db.Text(connection, $"SELECT typeof(checksum) FROM {MigrationSet.GatewayBookkeepingTable}"));
    }

    [Fact]
    public async Task Reverting_all_of_one_set_leaves_the_other_alone()
    {
        using var database = new TemporarySqliteFile();
        using var connection = await database.OpenMigratedAsync();
        var gateway = GatewayMigrator(connection, GatewaySource(database));
        await gateway.RunAsync(null, CancellationToken.None);
        var orchestratorRows = Db.Bookkeeping(connection);

        var reverted = await gateway.RevertAsync(0, CancellationToken.None);

        Assert.Single(reverted);
        Assert.False(Db.TableExists(connection, "gateway_events"));
        Assert.Equal(0, Db.Long(connection, $"SELECT COUNT(*) FROM {MigrationSet.GatewayBookkeepingTable}"));
        Assert.Equal(orchestratorRows, Db.Bookkeeping(connection));
        Assert.Equal(6, Db.Long(connection, $"SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name NOT LIKE '\\_%' ESCAPE '\\'"));
    }

    [Theory]
    [InlineData("_gateway-migrations")]
    [InlineData("x; DROP TABLE tasks")]
    [InlineData("1table")]
    [InlineData("")]
    public void A_bookkeeping_table_name_that_is_not_a_plain_identifier_is_refused(string table)
    {
        Assert.ThrowsAny<ArgumentException>(() => new MigrationSet("gateway", ".", table));
    }

    private static Migrator GatewayMigrator(SqliteConnection connection, string source) =>
        new(
            new MigrationSet("gateway", source, MigrationSet.GatewayBookkeepingTable),
            new SqliteMigrationStore(connection, MigrationSet.GatewayBookkeepingTable));

    private static string GatewaySource(TemporarySqliteFile database)
    {
        var source = Path.Combine(database.Directory, "gateway-migrations");
        Directory.CreateDirectory(source);
        File.WriteAllText(
            Path.Combine(source, $"{GatewayVersion}_create_gateway_events.up.sql"),
            "CREATE TABLE IF NOT EXISTS gateway_events (id INTEGER PRIMARY KEY, kind TEXT NOT NULL, task_id TEXT REFERENCES tasks(id) ON DELETE CASCADE);\n");
        File.WriteAllText(
            Path.Combine(source, $"{GatewayVersion}_create_gateway_events.down.sql"),
            "DROP TABLE IF EXISTS gateway_events;\n");
        return source;
    }
}
