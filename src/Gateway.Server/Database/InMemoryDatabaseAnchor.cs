using Microsoft.Data.Sqlite;

namespace Gateway.Server.Database;

/// <summary>
/// Holds one connection open for the life of the process when the database is in memory
/// (<c>sqlite::memory:</c>): a shared-cache memory database disappears with its last connection.
/// </summary>
public sealed class InMemoryDatabaseAnchor : IDisposable
{
    private readonly SqliteConnection? _connection;

    public InMemoryDatabaseAnchor(DatabaseLocation database)
    {
        if (database.IsInMemory)
        {
            _connection = new SqliteConnection(database.ConnectionString);
            _connection.Open();
        }
    }

    public void Dispose() => _connection?.Dispose();
}
