using Microsoft.Data.Sqlite;

namespace Gateway.Server.Sessions;

/// <summary>
/// Lets SQLite itself wait for a lock held by the node's other writer. The session writer and the change writer are
/// two connections; when one begins a write while the other commits, SQLite answers SQLITE_BUSY. Microsoft.Data.Sqlite
/// handles BUSY by sleeping 150 ms and retrying (measured: a lock held 5 ms costs the other writer 150 ms), which
/// stalls every change or session write queued behind it. With SQLite's busy timeout set, SQLite waits inside the
/// call with short sleeps (1, 2, 5, 10 ms ...) and goes on as soon as the lock is free; Microsoft.Data.Sqlite's loop
/// only runs if SQLite gives up after the same timeout.
/// </summary>
internal static class SqliteBusyTimeout
{
    /// <summary>Sets SQLite's busy timeout of an open connection to its Default Timeout (Database:BusyTimeoutSeconds).</summary>
    public static void Apply(SqliteConnection connection)
    {
        ArgumentNullException.ThrowIfNull(connection);
        var milliseconds = connection.DefaultTimeout <= 0 ? int.MaxValue : (int)Math.Min(int.MaxValue, connection.DefaultTimeout * 1000L);
        var result = SQLitePCL.raw.sqlite3_busy_timeout(connection.Handle, milliseconds);
        if (result != SQLitePCL.raw.SQLITE_OK)
        {
            throw new SqliteException($"setting the busy timeout failed ({result})", result);
        }
    }
}
