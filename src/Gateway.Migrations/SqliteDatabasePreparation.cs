using Microsoft.Data.Sqlite;

namespace Gateway.Migrations;

/// <summary>Settings a Gateway SQLite file needs before anything runs on it.</summary>
public static class SqliteDatabasePreparation
{
    /// <summary>
    /// Creates the file's folder and turns on write-ahead logging (stored in the file, so once is enough;
    /// readers then never block the single writer). Read-only and in-memory databases are left as they are.
    /// </summary>
    public static async Task PrepareAsync(SqliteConnectionStringBuilder builder, CancellationToken cancellationToken)
    {
        if (SqliteDatabaseUrl.IsInMemory(builder) || builder.Mode == SqliteOpenMode.ReadOnly)
        {
            return;
        }

        var folder = Path.GetDirectoryName(Path.GetFullPath(builder.DataSource));
        if (!string.IsNullOrEmpty(folder))
        {
            Directory.CreateDirectory(folder);
        }

        await using var connection = new SqliteConnection(builder.ConnectionString);
        await connection.OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA journal_mode = WAL;";
        await command.ExecuteNonQueryAsync(cancellationToken);
    }
}
