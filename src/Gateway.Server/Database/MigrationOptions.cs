using Gateway.Migrations;

namespace Gateway.Server.Database;

/// <summary>What the server does with its migration sets at start. Bound from the "Migrations" section.</summary>
public sealed class MigrationOptions
{
    public const string SectionName = "Migrations";

    public const string ApplyMode = "apply";
    public const string ExternalMode = "external";

    /// <summary>
    /// Who owns the orchestrator's seven migrations: <c>apply</c> (Gateway applies and records them in
    /// <c>_sqlx_migrations</c>, the default) or <c>external</c> (the orchestrator's own migrator does: Gateway never
    /// applies, reverts or records anything there, and checks at start that the tables and columns it needs exist).
    /// Gateway's own set is applied in both modes.
    /// </summary>
    public string Orchestrator { get; set; } = ApplyMode;

    public bool OrchestratorIsExternal => string.Equals(Orchestrator?.Trim(), ExternalMode, StringComparison.OrdinalIgnoreCase);

    /// <summary>Null when <see cref="Orchestrator"/> is valid; else why not.</summary>
    public string? OrchestratorProblem =>
        Orchestrator?.Trim() is { } mode && (mode.Equals(ApplyMode, StringComparison.OrdinalIgnoreCase) || mode.Equals(ExternalMode, StringComparison.OrdinalIgnoreCase))
            ? null
            : $"{SectionName}:Orchestrator must be {ApplyMode} or {ExternalMode}, not '{Orchestrator}'";

    /// <summary>Apply pending migrations before accepting clients. When false, a pending migration stops the start.</summary>
    public bool ApplyAtStartup { get; set; } = true;

    /// <summary>
    /// Accept applied orchestrator versions that no file has, as sqlx's --ignore-missing (an orchestrator database
    /// with more tables). Gateway's own set is always strict.
    /// </summary>
    public bool IgnoreMissing { get; set; }

    /// <summary>Folder of the orchestrator's migration files. Empty: the copy shipped beside the executable for the database's provider (<c>migrations/sqlite</c> or <c>migrations/postgres</c>).</summary>
    public string Source { get; set; } = string.Empty;

    /// <summary>Folder of Gateway's own migration files (the event log). Empty: the copy shipped beside the executable for the database's provider.</summary>
    public string GatewaySource { get; set; } = string.Empty;

    /// <summary>The dialect folder's name: <c>sqlite</c> or <c>postgres</c>.</summary>
    public static string Dialect(bool postgres) => postgres ? "postgres" : "sqlite";

    public static string DefaultSource(bool postgres) => Path.Combine(AppContext.BaseDirectory, "migrations", Dialect(postgres));

    public static string DefaultGatewaySource(bool postgres) => Path.Combine(AppContext.BaseDirectory, "migrations", "gateway", Dialect(postgres));

    public string ResolvedSource(bool postgres) => string.IsNullOrWhiteSpace(Source) ? DefaultSource(postgres) : Source;

    public string ResolvedGatewaySource(bool postgres) => string.IsNullOrWhiteSpace(GatewaySource) ? DefaultGatewaySource(postgres) : GatewaySource;
}
