namespace Gateway.Migrations;

/// <summary>
/// The database side of a migration set: its bookkeeping table and the execution of files.
/// </summary>
/// <remarks>
/// Atomicity: <see cref="ApplyAsync"/> runs the file and inserts its row in one transaction (unless the
/// file starts with <c>-- no-transaction</c>, as in sqlx); <see cref="RevertAsync"/> runs the down file and
/// deletes the row in one transaction. Both re-check the row inside their transaction, so two processes
/// migrating one database at once apply each version exactly once.
/// </remarks>
public interface IMigrationStore
{
    /// <summary>
    /// sqlx's migration lock, held from validation to the last migration of a run or revert, so that no other
    /// migrator (another node, the orchestrator's own) migrates the database meanwhile. None by default: on SQLite
    /// each migration's <c>BEGIN IMMEDIATE</c> and the re-check inside it are what serialise migrators.
    /// </summary>
    Task LockAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    Task UnlockAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>Whether the bookkeeping table exists; read-only commands never create it.</summary>
    Task<bool> BookkeepingTableExistsAsync(CancellationToken cancellationToken);

    Task EnsureBookkeepingTableAsync(CancellationToken cancellationToken);

    /// <summary>Rows in version order; empty when the table does not exist.</summary>
    Task<IReadOnlyList<AppliedMigration>> ListAppliedAsync(CancellationToken cancellationToken);

    /// <summary>Applies one migration. Returns false when another process applied it first.</summary>
    Task<bool> ApplyAsync(Migration migration, CancellationToken cancellationToken);

    /// <summary>Reverts one applied, reversible migration. Returns false when it was no longer applied.</summary>
    Task<bool> RevertAsync(Migration migration, CancellationToken cancellationToken);
}
