using Gateway.Server.Api;
using Gateway.Server.Cluster;
using Microsoft.Extensions.Options;

namespace Gateway.Server.Sessions;

public static class SessionServiceCollectionExtensions
{
    /// <summary>
    /// Sessions as rows: the session writer, the live connections and their limits, the node's session lifecycle, the
    /// reaper and pruning, admin session events; and this node's place in the cluster (registry and signals).
    /// </summary>
    public static WebApplicationBuilder AddGatewaySessions(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddOptions<SessionLifetimeOptions>().BindConfiguration(SessionLifetimeOptions.SectionName).ValidateOnStart();
        services.AddSingleton<IValidateOptions<SessionLifetimeOptions>, SessionLifetimeOptionsValidator>();
        services.AddOptions<LimitOptions>().BindConfiguration(LimitOptions.SectionName).ValidateOnStart();
        services.AddSingleton<IValidateOptions<LimitOptions>, LimitOptionsValidator>();
        services.AddOptions<NodeOptions>().BindConfiguration(NodeOptions.SectionName).ValidateOnStart();
        services.AddSingleton<IValidateOptions<NodeOptions>, NodeOptionsValidator>();
        services.AddOptions<HostOptions>().Configure<IOptions<NodeOptions>>((host, node) => host.ShutdownTimeout = node.Value.ShutdownTimeout);

        services.AddSingleton<ISessionStore>(provider => provider.GetRequiredService<Database.DatabaseLocation>().IsPostgres
            ? ActivatorUtilities.CreateInstance<PostgresSessionStore>(provider)
            : ActivatorUtilities.CreateInstance<SqliteSessionStore>(provider));
        services.AddSingleton<ISignalStore>(provider => provider.GetRequiredService<Database.DatabaseLocation>().IsPostgres
            ? ActivatorUtilities.CreateInstance<PostgresSignalStore>(provider)
            : ActivatorUtilities.CreateInstance<SqliteSignalStore>(provider));

        services.AddSingleton<RealtimeStats>();
        services.AddSingleton<LiveConnections>();
        services.AddSingleton<RefusedConnections>();
        services.AddSingleton<SessionEvents>();
        services.AddSingleton<SessionManager>();
        services.AddSingleton<SessionAdministration>();

        // Hosted services start in this order and stop in reverse: the writer outlives everything that writes through it.
        services.AddSingleton<SessionWriter>();
        services.AddHostedService(provider => provider.GetRequiredService<SessionWriter>());
        services.AddHostedService<NodeSessionLifecycle>();
        services.AddSingleton<ClusterSignals>();
        services.AddSingleton<NodeStanding>();
        services.AddSingleton<NodeRegistry>();
        services.AddHostedService(provider => provider.GetRequiredService<NodeRegistry>());
        services.AddSingleton<SessionMaintenance>();
        services.AddHostedService(provider => provider.GetRequiredService<SessionMaintenance>());
        return builder;
    }

    /// <summary>The admin REST API over sessions and nodes, the realtime stats and the schema's value sets.</summary>
    public static WebApplication MapGatewaySessions(this WebApplication app)
    {
        app.MapSessionsApi();
        app.MapNodesApi();
        app.MapRealtimeStatsApi();
        app.MapSchemaApi();
        return app;
    }
}
