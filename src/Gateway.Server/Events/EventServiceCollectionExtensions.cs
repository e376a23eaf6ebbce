namespace Gateway.Server.Events;

public static class EventServiceCollectionExtensions
{
    /// <summary>The change writer, the event log (its follower, broadcaster, subscriptions and retention).</summary>
    public static WebApplicationBuilder AddGatewayEvents(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddOptions<EventOptions>().BindConfiguration(EventOptions.SectionName).ValidateOnStart();
        services.AddSingleton<Microsoft.Extensions.Options.IValidateOptions<EventOptions>, EventOptionsValidator>();
        services.AddSingleton<IEventLog>(provider => provider.GetRequiredService<Database.DatabaseLocation>().IsPostgres
            ? new PostgresEventLog(
                provider.GetRequiredService<Microsoft.EntityFrameworkCore.IDbContextFactory<Gateway.Data.GatewayDbContext>>(),
                provider.GetRequiredService<Microsoft.Extensions.Options.IOptions<Sessions.NodeOptions>>().Value.ResolvedId)
            : ActivatorUtilities.CreateInstance<SqliteEventLog>(provider));

        services.AddSingleton<EventBroadcaster>();
        services.AddSingleton<EventSubscriptions>();
        services.AddSingleton<PostgresCommitOutcome>();
        services.AddSingleton<ChangeWriter>();
        services.AddSingleton<EventLogFollower>();
        services.AddHostedService(provider => provider.GetRequiredService<ChangeWriter>());
        services.AddHostedService(provider => provider.GetRequiredService<EventLogFollower>());
        services.AddHostedService<EventRetention>();
        return builder;
    }
}
