using System.Globalization;
using Gateway.Data;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Gateway.Server.Database;

public static class DatabaseServiceCollectionExtensions
{
    /// <summary>Resolves the database (DATABASE_URL over appsettings), registers EF Core on it and the start-up migration.</summary>
    public static WebApplicationBuilder AddGatewayDatabase(this WebApplicationBuilder builder)
    {
        var database = DatabaseLocation.Resolve(builder.Configuration);
        builder.Services.AddSingleton(database);
        builder.Services.AddSingleton<InMemoryDatabaseAnchor>();
        builder.Services.AddOptions<DatabaseOptions>().BindConfiguration(DatabaseOptions.SectionName)
            .Validate(
                options => options.IdleTransactionTimeoutSeconds is >= 0 and <= 3600,
                "Database: IdleTransactionTimeoutSeconds must be between 0 (the PostgreSQL server's own setting) and 3600 seconds, e.g. 5")
            .ValidateOnStart();
        builder.Services.AddOptions<MigrationOptions>().BindConfiguration(MigrationOptions.SectionName);
        builder.Services.AddSingleton<StartupMigration>();
        builder.Services.AddSingleton<SchemaValues>();
        builder.Services.AddSingleton<StorageHealth>();
        if (database.IsPostgres)
        {
            // One pool for EF Core, the stores, the registry and health; the follower's listener holds one more.
            builder.Services.AddSingleton(provider => NpgsqlDataSource.Create(
                WithIdleTransactionTimeout(database.ConnectionString, provider.GetRequiredService<IOptions<DatabaseOptions>>().Value)));
            builder.Services.AddGatewayPostgresDbContext(provider => provider.GetRequiredService<NpgsqlDataSource>());
            builder.Services.AddSingleton(provider => new DatabaseConnections(database, provider.GetRequiredService<NpgsqlDataSource>()));
        }
        else
        {
            builder.Services.AddGatewayDbContext(database.ConnectionString);
            builder.Services.AddSingleton(new DatabaseConnections(database, null));
        }

        return builder;
    }

    /// <summary>
    /// The server ends a transaction of this node that stays idle for <c>Database:IdleTransactionTimeoutSeconds</c>: a
    /// node that stalls (paused, swapped out, its network silent) while it holds the event log's lock would otherwise
    /// stop every node's appends for as long as it stalls. Its transaction is rolled back and answered as a storage
    /// fault (503), nothing of it acknowledged. An explicit setting in the URL's <c>options</c> stands.
    /// </summary>
    internal static string WithIdleTransactionTimeout(string connectionString, DatabaseOptions options)
    {
        const string Setting = "idle_in_transaction_session_timeout";
        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        if (options.IdleTransactionTimeoutSeconds > 0 && builder.Options?.Contains(Setting, StringComparison.Ordinal) != true)
        {
            var milliseconds = options.IdleTransactionTimeoutSeconds * 1000L;
            builder.Options = $"{builder.Options} -c {Setting}={milliseconds.ToString(CultureInfo.InvariantCulture)}".Trim();
        }

        return builder.ConnectionString;
    }

    /// <summary>
    /// Applies or checks migrations, then claims this node's row in the node registry, before the server listens.
    /// False: do not start (the reason is logged).
    /// </summary>
    public static async Task<bool> PrepareGatewayDatabaseAsync(this WebApplication app)
    {
        app.Services.GetRequiredService<InMemoryDatabaseAnchor>();
        return await app.Services.GetRequiredService<StartupMigration>().RunAsync(app.Lifetime.ApplicationStopping)
            && await app.Services.GetRequiredService<Cluster.NodeRegistry>().ClaimAsync(app.Lifetime.ApplicationStopping);
    }
}
