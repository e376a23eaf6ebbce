using Microsoft.Data.Sqlite;

namespace Gateway.Migrations;

/// <summary>
/// Understands <c>DATABASE_URL</c> in sqlx's form and turns it into a Microsoft.Data.Sqlite connection string:
/// <c>sqlite:orchestrator.db</c>, <c>sqlite://path?mode=rwc</c>, <c>sqlite:///absolute/path</c>, <c>sqlite::memory:</c>.
/// </summary>
/// <remarks>
/// Differences from sqlx, on purpose: without <c>mode</c> the file is created when absent (sqlx needs
/// <c>sqlx database create</c> first), and foreign keys are always on. An in-memory database gets a unique
/// shared-cache name, so several connections of one process see the same data while one stays open.
/// </remarks>
public static class SqliteDatabaseUrl
{
    public static bool IsPostgres(string url) =>
        url.StartsWith("postgres://", StringComparison.OrdinalIgnoreCase)
        || url.StartsWith("postgresql://", StringComparison.OrdinalIgnoreCase);

    public static SqliteConnectionStringBuilder Parse(string url)
    {
        ArgumentNullException.ThrowIfNull(url);
        if (IsPostgres(url))
        {
            throw new MigrationException(
                MigrationErrorKind.UnsupportedDatabase,
                "this is a PostgreSQL URL, not a SQLite one (PostgresDatabaseUrl reads it); a SQLite URL looks like sqlite:data/gateway.db");
        }

        if (!url.StartsWith("sqlite:", StringComparison.OrdinalIgnoreCase))
        {
            throw new MigrationException(
                MigrationErrorKind.BadDatabaseUrl,
                $"database URL '{url}' is not understood; expected sqlite:path/to/file.db, sqlite://path?mode=rwc or sqlite::memory:");
        }

        var rest = url["sqlite:".Length..];
        if (rest.StartsWith("//", StringComparison.Ordinal))
        {
            rest = rest[2..];
        }

        var query = string.Empty;
        var questionMark = rest.IndexOf('?', StringComparison.Ordinal);
        if (questionMark >= 0)
        {
            query = rest[(questionMark + 1)..];
            rest = rest[..questionMark];
        }

        var builder = new SqliteConnectionStringBuilder
        {
            ForeignKeys = true,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Pooling = true,
        };

        var memory = rest == ":memory:";
        foreach (var pair in query.Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var equals = pair.IndexOf('=', StringComparison.Ordinal);
            var key = equals < 0 ? pair : pair[..equals];
            var value = equals < 0 ? string.Empty : Uri.UnescapeDataString(pair[(equals + 1)..]);
            switch (key)
            {
                case "mode":
                    builder.Mode = value switch
                    {
                        "ro" => SqliteOpenMode.ReadOnly,
                        "rw" => SqliteOpenMode.ReadWrite,
                        "rwc" => SqliteOpenMode.ReadWriteCreate,
                        "memory" => SqliteOpenMode.Memory,
                        _ => throw new MigrationException(
                            MigrationErrorKind.BadDatabaseUrl,
                            $"database URL '{url}': mode must be ro, rw, rwc or memory, not '{value}'"),
                    };
                    memory |= value == "memory";
                    break;
                case "cache":
                    builder.Cache = value switch
                    {
                        "shared" => SqliteCacheMode.Shared,
                        "private" => SqliteCacheMode.Private,
                        _ => throw new MigrationException(
                            MigrationErrorKind.BadDatabaseUrl,
                            $"database URL '{url}': cache must be shared or private, not '{value}'"),
                    };
                    break;
                default:
                    throw new MigrationException(
                        MigrationErrorKind.BadDatabaseUrl,
                        $"database URL '{url}': unknown parameter '{key}' (understood: mode, cache)");
            }
        }

        if (memory)
        {
            builder.DataSource = $"gateway-memory-{Guid.NewGuid():N}";
            builder.Mode = SqliteOpenMode.Memory;
            builder.Cache = SqliteCacheMode.Shared;
            return builder;
        }

        if (rest.Length == 0)
        {
            throw new MigrationException(
                MigrationErrorKind.BadDatabaseUrl,
                $"database URL '{url}' names no file; expected sqlite:path/to/file.db");
        }

        builder.DataSource = Uri.UnescapeDataString(rest);
        return builder;
    }

    /// <summary>Whether the connection string names a database that lives only in memory.</summary>
    public static bool IsInMemory(SqliteConnectionStringBuilder builder) =>
        builder.Mode == SqliteOpenMode.Memory || builder.DataSource == ":memory:";
}
