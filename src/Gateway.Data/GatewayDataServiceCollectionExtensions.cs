using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Gateway.Data;

/// <summary>Registers <see cref="GatewayDbContext"/>.</summary>
public static class GatewayDataServiceCollectionExtensions
{
    /// <summary>
    /// Registers a pooled <see cref="IDbContextFactory{GatewayDbContext}"/> (for work outside a request scope, or
    /// parallel work: a context is not thread-safe) and a scoped <see cref="GatewayDbContext"/> rented from it.
    /// The clock is the registered <see cref="TimeProvider"/>; <see cref="TimeProvider.System"/> is registered when
    /// there is none (register a fake before this call to control it in tests).
    /// </summary>
    /// <param name="services">The service collection.</param>
    /// <param name="sqliteConnectionString">
    /// A Microsoft.Data.Sqlite connection string to a migrated file. <c>Foreign Keys=True</c> is forced on.
    /// <c>Default Timeout</c> (seconds, default 30) governs how long a command waits on a locked database (SQLite's
    /// busy retries); it is left to the caller. WAL is a property of the file, set once by the migration step.
    /// </param>
    public static IServiceCollection AddGatewayDbContext(this IServiceCollection services, string sqliteConnectionString)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(sqliteConnectionString);
        return services.AddGatewayDbContext((options, time) => options.UseGatewaySqlite(sqliteConnectionString, time));
    }

    /// <summary>As <see cref="AddGatewayDbContext"/>, on PostgreSQL (<see cref="GatewayDbContextOptionsExtensions.UseGatewayPostgres"/>).</summary>
    /// <param name="services">The service collection.</param>
    /// <param name="npgsqlConnectionString">An Npgsql connection string to a migrated database.</param>
    public static IServiceCollection AddGatewayPostgresDbContext(this IServiceCollection services, string npgsqlConnectionString)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(npgsqlConnectionString);
        return services.AddGatewayDbContext((options, time) => options.UseGatewayPostgres(npgsqlConnectionString, time));
    }

    /// <summary>
    /// As <see cref="AddGatewayPostgresDbContext(IServiceCollection, string)"/>, on the application's one
    /// <see cref="Npgsql.NpgsqlDataSource"/> (one connection pool for EF Core and the application's own commands).
    /// </summary>
    /// <param name="services">The service collection.</param>
    /// <param name="dataSource">Resolves the data source, a singleton the caller registers.</param>
    public static IServiceCollection AddGatewayPostgresDbContext(this IServiceCollection services, Func<IServiceProvider, Npgsql.NpgsqlDataSource> dataSource)
    {
        ArgumentNullException.ThrowIfNull(dataSource);
        return services.AddGatewayDbContext((provider, options, time) => options.UseGatewayPostgres(dataSource(provider), time));
    }

    private static IServiceCollection AddGatewayDbContext(this IServiceCollection services, Action<DbContextOptionsBuilder, TimeProvider> use) =>
        services.AddGatewayDbContext((_, options, time) => use(options, time));

    private static IServiceCollection AddGatewayDbContext(this IServiceCollection services, Action<IServiceProvider, DbContextOptionsBuilder, TimeProvider> use)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.TryAddSingleton(TimeProvider.System);
        services.AddPooledDbContextFactory<GatewayDbContext>((provider, options) => use(provider, options, provider.GetRequiredService<TimeProvider>()));
        services.TryAddScoped(provider => provider.GetRequiredService<IDbContextFactory<GatewayDbContext>>().CreateDbContext());
        return services;
    }
}
