using Gateway.Data;

namespace Gateway.Server.Database;

public static class DatabaseServiceCollectionExtensions
{
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
            // One pool for EF Core, the stores, the registry and health; the follower's listener holds one more.
            builder.Services.AddSingleton(_ => Npgsql.NpgsqlDataSource.Create(database.ConnectionString));
            builder.Services.AddGatewayPostgresDbContext(provider => provider.GetRequiredService<Npgsql.NpgsqlDataSource>());
            builder.Services.AddSingleton(provider => new DatabaseConnections(database, provider.GetRequiredService<Npgsql.NpgsqlDataSource>()));
        }
        else
        {
            builder.Services.AddGatewayDbContext(database.ConnectionString);
            builder.Services.AddSingleton(new DatabaseConnections(database, null));
        }

        return builder;
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
