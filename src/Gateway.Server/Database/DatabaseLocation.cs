using Gateway.Migrations;
using Microsoft.Data.Sqlite;

namespace Gateway.Server.Database;

/// <summary>The database the gateway and its CLI work on, resolved once from configuration.</summary>
public sealed class DatabaseLocation
{
    private DatabaseLocation(string url, SqliteConnectionStringBuilder connectionString)
    {
        Url = url;
        ConnectionString = connectionString.ConnectionString;
        IsInMemory = SqliteDatabaseUrl.IsInMemory(connectionString);
        Builder = connectionString;
    }

    /// <summary>The URL as given or derived (sqlx's form).</summary>
    public string Url { get; }

    public string ConnectionString { get; }

    public bool IsInMemory { get; }

    internal SqliteConnectionStringBuilder Builder { get; }

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
        var builder = SqliteDatabaseUrl.Parse(url);
        builder.DefaultTimeout = Math.Max(1, options.BusyTimeoutSeconds);
        return new DatabaseLocation(url, builder);
    }

    private static string? FirstNonEmpty(params string?[] values) =>
        values.FirstOrDefault(v => !string.IsNullOrWhiteSpace(v));
}
