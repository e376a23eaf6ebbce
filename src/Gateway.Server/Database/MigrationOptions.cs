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

    /// <summary>Folder of the orchestrator's SQLite migration files. Empty: the copy shipped beside the executable.</summary>
    public string Source { get; set; } = string.Empty;

    /// <summary>Folder of Gateway's own SQLite migration files (the event log). Empty: the copy shipped beside the executable.</summary>
    public string GatewaySource { get; set; } = string.Empty;

    public static string DefaultSource => Path.Combine(AppContext.BaseDirectory, "migrations", "sqlite");

    public static string DefaultGatewaySource => Path.Combine(AppContext.BaseDirectory, "migrations", "gateway", "sqlite");

    public string ResolvedSource => string.IsNullOrWhiteSpace(Source) ? DefaultSource : Source;

    public string ResolvedGatewaySource => string.IsNullOrWhiteSpace(GatewaySource) ? DefaultGatewaySource : GatewaySource;
}
