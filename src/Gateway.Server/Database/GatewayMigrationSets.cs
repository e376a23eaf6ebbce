using Gateway.Migrations;
using Microsoft.Data.Sqlite;

namespace Gateway.Server.Database;

/// <summary>
/// The two migration sets of a Gateway database, in the order they are applied: the orchestrator's schema
/// (bookkeeping in sqlx's <c>_sqlx_migrations</c>) and Gateway's own tables (in <c>_gateway_migrations</c>).
/// Reverts go the other way round.
/// </summary>
public static class GatewayMigrationSets
{
    public const string Orchestrator = "orchestrator";
    public const string Gateway = "gateway";

    public static IReadOnlyList<string> Names { get; } = [Orchestrator, Gateway];

    public static MigrationSet Create(string name, string source) => name switch
    {
        Orchestrator => MigrationSet.Orchestrator(source),
        Gateway => new MigrationSet(Gateway, source, MigrationSet.GatewayBookkeepingTable),
        _ => throw new ArgumentException($"unknown migration set '{name}'; known: {string.Join(", ", Names)}", nameof(name)),
    };

    public static string SourceOf(string name, MigrationOptions options) =>
        name == Gateway ? options.ResolvedGatewaySource : options.ResolvedSource;

    /// <summary>A migrator for one set; ignore-missing applies to the orchestrator's set only.</summary>
    public static Migrator CreateMigrator(SqliteConnection connection, MigrationSet set, bool ignoreMissing) =>
        new(set, new SqliteMigrationStore(connection, set.BookkeepingTable), new MigratorOptions { IgnoreMissing = ignoreMissing && set.Name == Orchestrator });

    /// <summary>Both sets as configured, in apply order.</summary>
    public static IReadOnlyList<Migrator> CreateAll(SqliteConnection connection, MigrationOptions options) =>
        Names.Select(name => CreateMigrator(connection, Create(name, SourceOf(name, options)), options.IgnoreMissing)).ToList();
}
