using Gateway.Migrations;
using System.Data.Common;
using Microsoft.Data.Sqlite;
using Npgsql;

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

    public static string SourceOf(string name, MigrationOptions options, bool postgres) =>
        name == Gateway ? options.ResolvedGatewaySource(postgres) : options.ResolvedSource(postgres);

    /// <summary>The bookkeeping of one table on a connection of either provider.</summary>
    public static IMigrationStore CreateStore(DbConnection connection, string bookkeepingTable) => connection switch
    {
        SqliteConnection sqlite => new SqliteMigrationStore(sqlite, bookkeepingTable),
        NpgsqlConnection postgres => new PostgresMigrationStore(postgres, bookkeepingTable),
        _ => throw new ArgumentException($"no migration store for {connection.GetType().Name}", nameof(connection)),
    };

    /// <summary>A migrator for one set; ignore-missing applies to the orchestrator's set only.</summary>
    public static Migrator CreateMigrator(DbConnection connection, MigrationSet set, bool ignoreMissing) =>
        new(set, CreateStore(connection, set.BookkeepingTable), new MigratorOptions { IgnoreMissing = ignoreMissing && set.Name == Orchestrator });

    /// <summary>The sets Gateway manages as configured, in apply order: Gateway's own only when the orchestrator's is external.</summary>
    public static IReadOnlyList<string> ManagedNames(MigrationOptions options) => options.OrchestratorIsExternal ? [Gateway] : Names;

    /// <summary>The sets Gateway manages as configured, in apply order.</summary>
    public static IReadOnlyList<Migrator> CreateAll(DbConnection connection, MigrationOptions options) =>
        ManagedNames(options).Select(name => CreateMigrator(connection, Create(name, SourceOf(name, options, connection is NpgsqlConnection)), options.IgnoreMissing)).ToList();

    /// <summary>
    /// Validates a set; when the orchestrator's set meets bookkeeping its files did not write (other checksums, versions
    /// it has no file for), the refusal says that another migrator looks to own the database, and names the setting.
    /// </summary>
    public static async Task<(IReadOnlyList<Migration> Migrations, IReadOnlyDictionary<long, AppliedMigration> Applied)> ValidateAsync(
        Migrator migrator, CancellationToken cancellationToken)
    {
        try
        {
            return await migrator.ValidateAsync(cancellationToken);
        }
        catch (MigrationException exception) when (migrator.Set.Name == Orchestrator
            && exception.Kind is MigrationErrorKind.ChecksumMismatch or MigrationErrorKind.VersionMissing)
        {
            throw new MigrationException(
                exception.Kind,
                exception.Message + $". This looks like a database whose orchestrator applies its own migrations ({migrator.Set.BookkeepingTable} "
                + $"was written from other files): set {MigrationOptions.SectionName}:Orchestrator={MigrationOptions.ExternalMode} "
                + $"(environment {MigrationOptions.SectionName}__Orchestrator) so that Gateway leaves that set to it and applies only its own",
                exception);
        }
    }
}
