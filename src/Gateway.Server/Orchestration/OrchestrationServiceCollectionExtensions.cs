using Gateway.Server.Api;

namespace Gateway.Server.Orchestration;

public static class OrchestrationServiceCollectionExtensions
{
    /// <summary>The orchestration services (tasks, workflows, tool executions, configurations) and their REST errors.</summary>
    public static WebApplicationBuilder AddGatewayOrchestration(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        // REST answers, like stored payloads, escape only what JSON requires.
        services.ConfigureHttpJsonOptions(json => json.SerializerOptions.Encoder = JsonInput.Encoder);
        services.AddSingleton<Tasks.TaskService>();
        services.AddSingleton<Workflows.WorkflowService>();
        services.AddSingleton<ToolExecutions.ToolExecutionService>();
        services.AddSingleton<Configurations.ConfigurationService>();
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
