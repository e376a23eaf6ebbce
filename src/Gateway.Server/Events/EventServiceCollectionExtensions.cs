namespace Gateway.Server.Events;

public static class EventServiceCollectionExtensions
{
    /// <summary>The change writer, the event log (its follower, broadcaster, subscriptions and retention).</summary>
    public static WebApplicationBuilder AddGatewayEvents(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddOptions<EventOptions>().BindConfiguration(EventOptions.SectionName).ValidateOnStart();
        services.AddSingleton<Microsoft.Extensions.Options.IValidateOptions<EventOptions>, EventOptionsValidator>();
        services.AddSingleton<IEventLog, SqliteEventLog>();
        services.AddSingleton<EventBroadcaster>();
        services.AddSingleton<EventSubscriptions>();
        services.AddSingleton<ChangeWriter>();
        services.AddSingleton<EventLogFollower>();
        services.AddHostedService(provider => provider.GetRequiredService<ChangeWriter>());
        services.AddHostedService(provider => provider.GetRequiredService<EventLogFollower>());
        services.AddHostedService<EventRetention>();
        return builder;
    }
}
