using Microsoft.Data.Sqlite;

namespace Gateway.Migrations;

/// <summary>Settings a Gateway SQLite file needs before anything runs on it.</summary>
public static class SqliteDatabasePreparation
{
    /// <summary>
    /// Creates the file's folder (0700) and the file (0600) when they are missing, takes group and others' permissions
    /// away from an existing file and its -wal, -shm and -journal companions (the database holds the configuration's
    /// secrets in clear), and turns on write-ahead logging (stored in the file, so once is enough; readers then never
    /// block the single writer). Read-only and in-memory databases are left as they are.
    /// </summary>
    /// <returns>The files whose permissions were narrowed, for a warning.</returns>
    public static async Task<IReadOnlyList<NarrowedPermissions>> PrepareAsync(SqliteConnectionStringBuilder builder, CancellationToken cancellationToken)
    {
        if (SqliteDatabaseUrl.IsInMemory(builder) || builder.Mode == SqliteOpenMode.ReadOnly)
        {
            return [];
        }

        var path = Path.GetFullPath(builder.DataSource);
        var folder = Path.GetDirectoryName(path);
        if (!string.IsNullOrEmpty(folder))
        {
            PrivateFiles.CreateFolder(folder);
        }

        // SQLite creates a database 0644 (less the umask) and gives the -wal, -shm and -journal files it creates the
        // database file's mode. An empty file is a valid new database: created 0600 here, its companions follow it.
        if (builder.Mode == SqliteOpenMode.ReadWriteCreate)
        {
            PrivateFiles.CreateEmptyFile(path);
        }

        var narrowed = new List<NarrowedPermissions>();
        foreach (var file in (string[])[path, path + "-wal", path + "-shm", path + "-journal"])
        {
            if (PrivateFiles.RestrictToOwner(file) is { } before)
            {
                narrowed.Add(new NarrowedPermissions(file, before, PrivateFiles.ModeOf(file) ?? before));
            }
        }

        await using var connection = new SqliteConnection(builder.ConnectionString);
        await connection.OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA journal_mode = WAL;";
        await command.ExecuteNonQueryAsync(cancellationToken);
        return narrowed;
    }
}

/// <summary>A file whose group and others' permissions were taken away.</summary>
public sealed record NarrowedPermissions(string Path, UnixFileMode Before, UnixFileMode After)
{
    public override string ToString() =>
        $"{Path} was mode {PrivateFiles.Octal(Before)}, which lets others than its owner use it; it is now {PrivateFiles.Octal(After)}";
}
