using Gateway.Data;

namespace Gateway.Server.Database;

public static partial class DatabaseServiceCollectionExtensions
{
    [LoggerMessage(EventId = 1012, Level = LogLevel.Critical,
        Message = "Refusing to start: {Database} is a PostgreSQL database, and this version of the gateway server runs on SQLite only (`gateway migrate` works on PostgreSQL). Use a sqlite: DATABASE_URL")]
    private static partial void LogPostgresNotServed(ILogger logger, string database);

    /// <summary>Resolves the database (DATABASE_URL over appsettings), registers EF Core on it and the start-up migration.</summary>
    public static WebApplicationBuilder AddGatewayDatabase(this WebApplicationBuilder builder)
    {
        var database = DatabaseLocation.Resolve(builder.Configuration);
        builder.Services.AddSingleton(database);
        builder.Services.AddSingleton<InMemoryDatabaseAnchor>();
        builder.Services.AddOptions<DatabaseOptions>().BindConfiguration(DatabaseOptions.SectionName);
        builder.Services.AddOptions<MigrationOptions>().BindConfiguration(MigrationOptions.SectionName);
        builder.Services.AddSingleton<StartupMigration>();
        builder.Services.AddSingleton<SchemaValues>();
        builder.Services.AddSingleton<StorageHealth>();
        if (database.IsPostgres)
        {
            builder.Services.AddGatewayPostgresDbContext(database.ConnectionString);
        }
        else
        {
            builder.Services.AddGatewayDbContext(database.ConnectionString);
        }

        return builder;
    }

    /// <summary>
    /// Applies or checks migrations, then claims this node's row in the node registry, before the server listens.
    /// False: do not start (the reason is logged).
    /// </summary>
    public static async Task<bool> PrepareGatewayDatabaseAsync(this WebApplication app)
    {
        var database = app.Services.GetRequiredService<DatabaseLocation>();
        if (database.IsPostgres)
        {
            // The migrations and the CLI run on PostgreSQL; the server's stores do not yet.
            LogPostgresNotServed(app.Logger, database.Shown);
            return false;
        }

        app.Services.GetRequiredService<InMemoryDatabaseAnchor>();
        return await app.Services.GetRequiredService<StartupMigration>().RunAsync(app.Lifetime.ApplicationStopping)
            && await app.Services.GetRequiredService<Cluster.NodeRegistry>().ClaimAsync(app.Lifetime.ApplicationStopping);
    }
}
