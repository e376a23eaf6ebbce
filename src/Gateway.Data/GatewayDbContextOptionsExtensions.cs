using Gateway.Data.Interceptors;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;

namespace Gateway.Data;

/// <summary>Options for <see cref="GatewayDbContext"/> on a SQLite file.</summary>
public static class GatewayDbContextOptionsExtensions
{
    /// <summary>
    /// Uses SQLite with Gateway's settings: foreign keys forced on (<c>Foreign Keys=True</c> is set on the connection
    /// string whatever the caller passed), <c>PRAGMA synchronous = NORMAL</c> on every opened connection, and the
    /// application-owned timestamps taken from <paramref name="timeProvider"/> (default <see cref="TimeProvider.System"/>).
    /// <para>
    /// Busy waits: Microsoft.Data.Sqlite retries a locked database for the command timeout, which the connection
    /// string's <c>Default Timeout</c> keyword sets (seconds, 30 when absent). That is the caller's to choose;
    /// nothing here changes it.
    /// </para>
    /// </summary>
    public static DbContextOptionsBuilder UseGatewaySqlite(
        this DbContextOptionsBuilder builder,
        string sqliteConnectionString,
        TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrWhiteSpace(sqliteConnectionString);

        var connectionString = new SqliteConnectionStringBuilder(sqliteConnectionString) { ForeignKeys = true }.ConnectionString;
        return builder.UseSqlite(connectionString).AddGatewayInterceptors(timeProvider);
    }

    /// <summary>
    /// The same on a connection the caller owns and has opened with Gateway's settings (a long-lived writer's): every
    /// context built with these options uses that connection and no other, so contexts of a pool made with them never
    /// mix with the contexts of the shared pool.
    /// </summary>
    public static DbContextOptionsBuilder<TContext> UseGatewaySqlite<TContext>(
        this DbContextOptionsBuilder<TContext> builder,
        SqliteConnection connection,
        TimeProvider? timeProvider = null)
        where TContext : DbContext
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(connection);
        return (DbContextOptionsBuilder<TContext>)builder.UseSqlite(connection).AddGatewayInterceptors(timeProvider);
    }

    private static DbContextOptionsBuilder AddGatewayInterceptors(this DbContextOptionsBuilder builder, TimeProvider? timeProvider) =>
        builder.AddInterceptors(
            new SqliteConnectionInterceptor(),
            new PreparedStatementInterceptor(),
            new TimestampInterceptor(timeProvider ?? TimeProvider.System));

    /// <summary>
    /// Uses PostgreSQL (Npgsql) with Gateway's settings: timestamps as UTC <c>TIMESTAMPTZ</c> at microsecond precision
    /// (the application-owned ones taken from <paramref name="timeProvider"/> and cut to it), the same model as on
    /// SQLite. Npgsql prepares statements itself (<c>Max Auto Prepare</c> in the connection string).
    /// </summary>
    public static DbContextOptionsBuilder UseGatewayPostgres(
        this DbContextOptionsBuilder builder,
        string npgsqlConnectionString,
        TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrWhiteSpace(npgsqlConnectionString);
        return builder.UseNpgsql(npgsqlConnectionString).AddGatewayPostgresInterceptors(timeProvider);
    }

    /// <summary>The same on a data source (its pool shared with the application's own commands).</summary>
    public static DbContextOptionsBuilder UseGatewayPostgres(
        this DbContextOptionsBuilder builder,
        Npgsql.NpgsqlDataSource dataSource,
        TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(dataSource);
        return builder.UseNpgsql(dataSource).AddGatewayPostgresInterceptors(timeProvider);
    }

    /// <summary>
    /// The same on a connection the caller owns (a long-lived writer's): every context built with these options uses
    /// that connection and no other.
    /// </summary>
    public static DbContextOptionsBuilder<TContext> UseGatewayPostgres<TContext>(
        this DbContextOptionsBuilder<TContext> builder,
        System.Data.Common.DbConnection connection,
        TimeProvider? timeProvider = null)
        where TContext : DbContext
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(connection);
        return (DbContextOptionsBuilder<TContext>)builder.UseNpgsql(connection).AddGatewayPostgresInterceptors(timeProvider);
    }

    private static DbContextOptionsBuilder AddGatewayPostgresInterceptors(this DbContextOptionsBuilder builder, TimeProvider? timeProvider) =>
        builder.AddInterceptors(new TimestampInterceptor(timeProvider ?? TimeProvider.System, Conversion.UtcMicrosecondConverter.TicksPerMicrosecond));

    /// <inheritdoc cref="UseGatewaySqlite(DbContextOptionsBuilder, string, TimeProvider?)"/>
    public static DbContextOptionsBuilder<TContext> UseGatewaySqlite<TContext>(
        this DbContextOptionsBuilder<TContext> builder,
        string sqliteConnectionString,
        TimeProvider? timeProvider = null)
        where TContext : DbContext
        => (DbContextOptionsBuilder<TContext>)UseGatewaySqlite((DbContextOptionsBuilder)builder, sqliteConnectionString, timeProvider);
}
