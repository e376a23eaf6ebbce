namespace Gateway.Migrations;

/// <summary>A row of a bookkeeping table, in sqlx's form.</summary>
/// <param name="InstalledOn">As stored: <c>CURRENT_TIMESTAMP</c> text, UTC.</param>
/// <param name="ExecutionTimeNanoseconds">-1 while the migration's transaction has committed but the time is not yet written.</param>
public sealed record AppliedMigration(
    long Version,
    string Description,
    string InstalledOn,
    bool Success,
    byte[] Checksum,
    long ExecutionTimeNanoseconds);
