using Gateway.Server.Api;
using Gateway.Server.Orchestration.Tasks;

namespace Gateway.Server.Events;

public static class EventServiceCollectionExtensions
{
    /// <summary>The change writer, the event log's broadcaster and subscriptions, and the orchestration services on them.</summary>
    public static WebApplicationBuilder AddGatewayEvents(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddOptions<EventOptions>().BindConfiguration(EventOptions.SectionName).ValidateOnStart();
        services.AddSingleton<Microsoft.Extensions.Options.IValidateOptions<EventOptions>, EventOptionsValidator>();
        // REST answers, like stored payloads, escape only what JSON requires.
        services.ConfigureHttpJsonOptions(json => json.SerializerOptions.Encoder = Orchestration.JsonInput.Encoder);
        services.AddSingleton<EventBroadcaster>();
        services.AddSingleton<EventSubscriptions>();
        services.AddSingleton<ChangeWriter>();
        services.AddSingleton<EventLogFollower>();
        services.AddHostedService(provider => provider.GetRequiredService<ChangeWriter>());
        services.AddHostedService(provider => provider.GetRequiredService<EventLogFollower>());
        services.AddHostedService<EventRetention>();
        services.AddSingleton<TaskService>();
        services.AddSingleton<Orchestration.Workflows.WorkflowService>();
        services.AddSingleton<Orchestration.ToolExecutions.ToolExecutionService>();
        services.AddSingleton<Orchestration.Configurations.ConfigurationService>();
        services.AddExceptionHandler<GatewayExceptionHandler>();
        return builder;
    }

    public static WebApplication MapGatewayOrchestration(this WebApplication app)
    {
        app.MapTasksApi();
        app.MapWorkflowsApi();
        app.MapToolExecutionsApi();
        app.MapConfigurationsApi();
        return app;
    }
}
