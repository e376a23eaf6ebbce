using Gateway.Migrations;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace Gateway.Server.Database;

/// <summary>The database the gateway and its CLI work on, resolved once from configuration.</summary>
public sealed class DatabaseLocation
{
    private readonly SqliteConnectionStringBuilder? _sqlite;

    private DatabaseLocation(string url, SqliteConnectionStringBuilder connectionString)
    {
        Url = url;
        Shown = url;
        ConnectionString = connectionString.ConnectionString;
        IsInMemory = SqliteDatabaseUrl.IsInMemory(connectionString);
        _sqlite = connectionString;
    }

    private DatabaseLocation(string url, NpgsqlConnectionStringBuilder connectionString)
    {
        Url = url;
        Shown = PostgresDatabaseUrl.Describe(connectionString);
        ConnectionString = connectionString.ConnectionString;
        IsPostgres = true;
    }

    /// <summary>The URL as given or derived (sqlx's form). May hold a password: show <see cref="Shown"/> instead.</summary>
    public string Url { get; }

    /// <summary>The database as messages and logs may show it: never with a password.</summary>
    public string Shown { get; }

    /// <summary>The provider's connection string (Microsoft.Data.Sqlite or Npgsql). May hold a password.</summary>
    public string ConnectionString { get; }

    public bool IsInMemory { get; }

    public bool IsPostgres { get; }

    /// <summary>The SQLite connection string's parts; only for a SQLite database.</summary>
    internal SqliteConnectionStringBuilder Builder => _sqlite ?? throw new InvalidOperationException("not a SQLite database");

    /// <summary>A new, closed connection to the database, of its provider.</summary>
    internal System.Data.Common.DbConnection CreateConnection() =>
        IsPostgres ? new NpgsqlConnection(ConnectionString) : new SqliteConnection(ConnectionString);

    /// <summary>
    /// Order: an explicit URL (the CLI's --database-url), then DATABASE_URL, then Database:Url, then
    /// <c>sqlite:{DataDirectory}/{FileName}</c>.
    /// </summary>
    /// <exception cref="MigrationException">The URL is not one Gateway understands.</exception>
    public static DatabaseLocation Resolve(IConfiguration configuration, string? explicitUrl = null)
    {
        var options = configuration.GetSection(DatabaseOptions.SectionName).Get<DatabaseOptions>() ?? new DatabaseOptions();
        var url = FirstNonEmpty(explicitUrl, configuration[DatabaseOptions.DatabaseUrlVariable], options.Url)
            ?? $"sqlite:{Path.Combine(options.DataDirectory, options.FileName)}";
        if (SqliteDatabaseUrl.IsPostgres(url))
        {
            var postgres = PostgresDatabaseUrl.Parse(url);
            postgres.Timeout = Math.Max(1, options.BusyTimeoutSeconds);
            return new DatabaseLocation(url, postgres);
        }

        var builder = SqliteDatabaseUrl.Parse(url);
        builder.DefaultTimeout = Math.Max(1, options.BusyTimeoutSeconds);
        return new DatabaseLocation(url, builder);
    }

    private static string? FirstNonEmpty(params string?[] values) =>
        values.FirstOrDefault(v => !string.IsNullOrWhiteSpace(v));
}
