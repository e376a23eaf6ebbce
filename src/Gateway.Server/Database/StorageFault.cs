using Gateway.Contracts;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace Gateway.Server.Database;

/// <summary>What kept a write from reaching the database: SQLite's primary result code, PostgreSQL's SQLSTATE, or a lost connection.</summary>
internal enum StorageFaultKind
{
    None,

    /// <summary>SQLITE_FULL: the disk (or the file system's quota) is full.</summary>
    Full,

    /// <summary>SQLITE_READONLY: the file, its folder or its file system cannot be written.</summary>
    ReadOnly,

    /// <summary>
    /// SQLITE_IOERR or SQLITE_CANTOPEN: the operating system refused a read or write. PostgreSQL: the server cannot be
    /// reached, is shutting down or starting, or failed with a system error.
    /// </summary>
    Unavailable,
}

/// <summary>
/// Storage faults, thrown directly or wrapped (EF Core, the change writer): each has a stable REST code (503 with
/// Retry-After) and hub code. Nothing was written when one is raised: the transaction is rolled back (a connection to
/// PostgreSQL lost during the commit itself is the one exception, which the change writer settles before it answers).
/// </summary>
internal static class StorageFault
{
    private const int SqliteReadOnly = 8;
    private const int SqliteIoError = 10;
    private const int SqliteFull = 13;
    private const int SqliteCantOpen = 14;

    /// <summary>Seconds a client should wait before it sends the change again.</summary>
    public const int RetryAfterSeconds = 5;

    public static StorageFaultKind Of(Exception? exception)
    {
        for (var current = exception; current is not null; current = current.InnerException)
        {
            if (current is SqliteException sqlite)
            {
                // Extended codes carry the primary code in their low byte (SQLITE_IOERR_WRITE is 778).
                return (sqlite.SqliteErrorCode & 0xff) switch
                {
                    SqliteFull => StorageFaultKind.Full,
                    SqliteReadOnly => StorageFaultKind.ReadOnly,
                    SqliteIoError or SqliteCantOpen => StorageFaultKind.Unavailable,
                    _ => StorageFaultKind.None,
                };
            }

            if (current is PostgresException postgres)
            {
                return postgres.SqlState switch
                {
                    PostgresErrorCodes.DiskFull => StorageFaultKind.Full,
                    PostgresErrorCodes.ReadOnlySqlTransaction => StorageFaultKind.ReadOnly,
                    // Class 08 connection, 53 resources (but the disk), 57P shutdown/start-up, 58 system errors;
                    // 25P03: the server ended a transaction of this node that stalled (idle_in_transaction_session_timeout).
                    "25P03" => StorageFaultKind.Unavailable,
                    var state when state.StartsWith("08", StringComparison.Ordinal) || state.StartsWith("53", StringComparison.Ordinal)
                        || state.StartsWith("57P", StringComparison.Ordinal) || state.StartsWith("58", StringComparison.Ordinal) => StorageFaultKind.Unavailable,
                    _ => StorageFaultKind.None,
                };
            }

            if (current is NpgsqlException)
            {
                // Not the server's answer: the connection could not be opened, broke, or timed out.
                return StorageFaultKind.Unavailable;
            }
        }

        return StorageFaultKind.None;
    }

    /// <summary>The REST problem's code.</summary>
    public static string RestCode(StorageFaultKind kind) => kind switch
    {
        StorageFaultKind.Full => "storage_full",
        StorageFaultKind.ReadOnly => "storage_read_only",
        _ => "storage_unavailable",
    };

    public static string HubCode(StorageFaultKind kind) => kind switch
    {
        StorageFaultKind.Full => HubErrorCodes.DatabaseFull,
        StorageFaultKind.ReadOnly => HubErrorCodes.DatabaseReadOnly,
        _ => HubErrorCodes.DatabaseUnavailable,
    };

    /// <summary>What the operator should do, for logs, problem details and readiness.</summary>
    public static string Describe(StorageFaultKind kind) => kind switch
    {
        StorageFaultKind.Full => "the database's disk is full; nothing was written. Free space on it: the gateway recovers by itself",
        StorageFaultKind.ReadOnly => "the database file, its folder or its file system is read-only; nothing was written",
        _ => "the database could not be reached or failed with an I/O error; nothing was written. The gateway reconnects by itself",
    };
}
