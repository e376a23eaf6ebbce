namespace Gateway.Migrations;

public enum MigrationState
{
    Pending,
    Applied,
    /// <summary>The row says success = false: sqlx's "partially applied", a dirty database.</summary>
    Failed,
    /// <summary>Applied, but no file in the source has its version.</summary>
    Missing,
    /// <summary>Recorded by another migrator that owns the set (the orchestrator's own): shown as the database holds it, never compared.</summary>
    External,
}

/// <summary>One line of <c>migrate info</c>.</summary>
public sealed record MigrationStatus(
    long Version,
    string Description,
    MigrationState State,
    bool? ChecksumMatches,
    string? AppliedAt,
    TimeSpan? Duration);
