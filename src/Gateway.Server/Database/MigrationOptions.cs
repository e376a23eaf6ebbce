namespace Gateway.Server.Database;

/// <summary>What the server does with the orchestrator's migrations at start. Bound from the "Migrations" section.</summary>
public sealed class MigrationOptions
{
    public const string SectionName = "Migrations";

    /// <summary>Apply pending migrations before accepting clients. When false, a pending migration stops the start.</summary>
    public bool ApplyAtStartup { get; set; } = true;

    /// <summary>Accept applied versions that no file has, as sqlx's --ignore-missing (an orchestrator database with more tables).</summary>
    public bool IgnoreMissing { get; set; }

    /// <summary>Folder of the SQLite migration files. Empty: the copy shipped beside the executable.</summary>
    public string Source { get; set; } = string.Empty;

    public static string DefaultSource => Path.Combine(AppContext.BaseDirectory, "migrations", "sqlite");

    public string ResolvedSource => string.IsNullOrWhiteSpace(Source) ? DefaultSource : Source;
}
