using Microsoft.Data.Sqlite;

namespace Gateway.Server.Database;

/// <summary>
/// SQLITE_BUSY / SQLITE_LOCKED, thrown directly or wrapped (EF Core): another writer held the database past
/// <c>Database:BusyTimeoutSeconds</c>. Nothing was written; trying again at once would only wait as long again.
/// </summary>
internal static class DatabaseBusy
{
    private const int SqliteBusy = 5;
    private const int SqliteLocked = 6;

    public static bool Is(Exception exception) =>
        (exception as SqliteException ?? exception.InnerException as SqliteException) is { SqliteErrorCode: SqliteBusy or SqliteLocked };
}
