using System.Data.Common;
using System.Globalization;
using Gateway.Data.Conversion;

namespace Gateway.Testing;

/// <summary>
/// A test's own database behind the gateway's back, on either provider: a SQLite file (<see cref="TemporarySqliteFile"/>)
/// or a PostgreSQL database (<see cref="TemporaryPostgresDatabase"/>). Tests that run on both read and seed rows through it
/// with SQL both dialects take.
/// </summary>
public interface ITestDatabase : IDisposable
{
    /// <summary>The URL form the CLI and the server take (DATABASE_URL).</summary>
    string DatabaseUrl { get; }

    bool IsPostgres { get; }

    /// <summary>A fresh, open connection.</summary>
    DbConnection OpenConnection();
}

/// <summary>Queries over an <see cref="ITestDatabase"/>, each on a fresh connection; values read as both providers agree.</summary>
public static class TestDatabaseQueries
{
    /// <summary>Runs a scalar query, e.g. a COUNT(*).</summary>
    public static long QueryLong(this ITestDatabase database, string sql)
    {
        using var connection = database.OpenConnection();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return AsLong(command.ExecuteScalar());
    }

    /// <summary>The first column of every row of a query, as integers (e.g. event ids in order).</summary>
    public static long[] QueryLongs(this ITestDatabase database, string sql) => QueryColumn(database, sql, reader => AsLong(reader.GetValue(0)));

    /// <summary>
    /// The first column of every row of a query, as text; a NULL reads as <c>&lt;null&gt;</c>. PostgreSQL's timestamps read in
    /// Gateway's SQLite text form and its booleans as 1 and 0, so one expectation holds on both.
    /// </summary>
    public static string[] QueryStrings(this ITestDatabase database, string sql) => QueryColumn(database, sql, reader => AsText(reader.GetValue(0)) ?? "<null>");

    /// <summary>Runs a scalar query and returns its text as <see cref="QueryStrings"/> does (null for NULL or no row).</summary>
    public static string? QueryString(this ITestDatabase database, string sql)
    {
        using var connection = database.OpenConnection();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return AsText(command.ExecuteScalar());
    }

    /// <summary>Runs a statement; returns the rows it changed.</summary>
    public static int Execute(this ITestDatabase database, string sql)
    {
        using var connection = database.OpenConnection();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return command.ExecuteNonQuery();
    }

    /// <summary>SQL for the text of a top-level key of a JSON text column, in this database's dialect.</summary>
    public static string JsonText(this ITestDatabase database, string column, string key) =>
        database.IsPostgres ? $"({column}::jsonb ->> '{key}')" : $"json_extract({column}, '$.{key}')";

    /// <summary>A UTC timestamp as a SQL literal of this database: Gateway's text on SQLite, an explicit UTC offset on PostgreSQL.</summary>
    public static string TimestampLiteral(this ITestDatabase database, DateTime at) =>
        $"'{UtcDateTimeConverter.Format(at)}{(database.IsPostgres ? "+00" : "")}'";

    private static long AsLong(object? value) => value is bool flag ? (flag ? 1 : 0) : Convert.ToInt64(value, CultureInfo.InvariantCulture);

    private static string? AsText(object? value) => value switch
    {
        null or DBNull => null,
        DateTime at => UtcDateTimeConverter.Format(at),
        bool flag => flag ? "1" : "0",
        _ => Convert.ToString(value, CultureInfo.InvariantCulture),
    };

    private static T[] QueryColumn<T>(ITestDatabase database, string sql, Func<DbDataReader, T> read)
    {
        using var connection = database.OpenConnection();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        using var reader = command.ExecuteReader();
        var values = new List<T>();
        while (reader.Read())
        {
            values.Add(read(reader));
        }

        return [.. values];
    }
}

/// <summary>
/// Which provider the test servers of this run use: PostgreSQL when <see cref="ProviderVariable"/> is <c>postgres</c>
/// (the test command's second pass over the suites that run on both), SQLite otherwise.
/// </summary>
public static class TestDatabases
{
    public const string ProviderVariable = "GATEWAY_TEST_PROVIDER";

    public static bool PostgresRun => string.Equals(Environment.GetEnvironmentVariable(ProviderVariable), "postgres", StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// A fresh database of this run's provider: a new SQLite file named <paramref name="name"/>, or a PostgreSQL database
    /// already migrated (<see cref="TestPostgres.CreateMigratedDatabaseAsync"/>; the server's start then finds nothing to apply).
    /// </summary>
    public static ITestDatabase Create(string name = "gateway.db") =>
        PostgresRun ? TestPostgres.CreateMigratedDatabaseAsync(Path.GetFileNameWithoutExtension(name).Replace('-', '_')).GetAwaiter().GetResult() : new TemporarySqliteFile(name);
}

/// <summary>The trait that puts a test class into the test command's PostgreSQL pass as well (README, What runs where).</summary>
public static class TestProviders
{
    public const string Trait = "Providers";

    /// <summary>Runs on SQLite and again on PostgreSQL: its servers and rows go through <see cref="GatewayTestServer.Store"/>.</summary>
    public const string Both = "both";
}
