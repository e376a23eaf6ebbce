using Gateway.Migrations;
using Microsoft.Data.Sqlite;

namespace Gateway.Server.Database;

/// <summary>The orchestrator's migration set on a connection: the one place the CLI and the server build their migrator.</summary>
public static class OrchestratorMigrations
{
    public static Migrator CreateMigrator(SqliteConnection connection, string source, bool ignoreMissing) =>
        new(
            MigrationSet.Orchestrator(source),
            new SqliteMigrationStore(connection, MigrationSet.SqlxBookkeepingTable),
            new MigratorOptions { IgnoreMissing = ignoreMissing });
}
