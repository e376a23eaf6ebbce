using Gateway.Contracts;
using Gateway.Server.Api;
using Gateway.Server.Sessions;
using Microsoft.AspNetCore.Http.Connections;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Protocol;
using Microsoft.Extensions.Options;

namespace Gateway.Server.Hubs;

public static class GatewayHubServiceCollectionExtensions
{
    /// <summary>The hub (JSON and MessagePack), session tracking, limits, heartbeats and session upkeep.</summary>
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
        services.AddSingleton<SessionMaintenance>();
        services.AddHostedService(provider => provider.GetRequiredService<SessionMaintenance>());

        services.AddSingleton<IUserIdProvider, SubjectUserIdProvider>();
        services.AddSingleton<GatewayHubFilter>();

        var limits = builder.Configuration.GetSection(LimitOptions.SectionName).Get<LimitOptions>() ?? new LimitOptions();
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Limits.MaxRequestBodySize = limits.MaxRequestBodyBytes);
        services.AddSignalR(options =>
            {
                options.MaximumReceiveMessageSize = limits.MaxMessageBytes;
                options.MaximumParallelInvocationsPerClient = limits.MaxParallelInvocationsPerConnection;
                // Clients see chosen errors only: the filter turns every exception of a hub method into a coded
                // HubException. Detailed errors would add the text of any other exception (a service that fails to be
                // created for a method, arguments that fail to bind), so they are for development only; an oversized
                // message still closes its connection with the gateway's code (MessageSizeHubProtocolResolver).
                options.EnableDetailedErrors = builder.Environment.IsDevelopment();
                options.AddFilter<GatewayHubFilter>();
            })
            // Non-ASCII text travels as UTF-8, not as \uXXXX escapes (an event's payload is a JSON string inside the frame).
            .AddJsonProtocol(json => json.PayloadSerializerOptions.Encoder = Orchestration.JsonInput.Encoder)
            .AddMessagePackProtocol();
        DecorateProtocolResolver(services, limits.MaxMessageBytes);
        DecorateLifetimeManager(services);
        return builder;
    }

    /// <summary>
    /// Wraps whichever lifetime manager is registered for the gateway's hub when this runs (SignalR's own, or a
    /// backplane's registered before: for <c>HubLifetimeManager&lt;&gt;</c> or for this hub alone) in the decorator
    /// that keeps each connection in its features. A registration made after this one replaces the decorator.
    /// </summary>
    internal static void DecorateLifetimeManager(IServiceCollection services)
    {
        var closed = services.LastOrDefault(d => d.ServiceType == typeof(HubLifetimeManager<GatewayHub>));
        var open = services.LastOrDefault(d => d.ServiceType == typeof(HubLifetimeManager<>));
        if (closed is null && open is null)
        {
            throw new InvalidOperationException("No SignalR lifetime manager is registered: call AddSignalR first.");
        }

        if (closed is not null)
        {
            services.Remove(closed);
        }

        services.AddSingleton<HubLifetimeManager<GatewayHub>>(provider => new ProtocolCapturingHubLifetimeManager<GatewayHub>(
            closed is not null ? Create(provider, closed) : (HubLifetimeManager<GatewayHub>)ActivatorUtilities.CreateInstance(
                provider, open!.ImplementationType!.MakeGenericType(typeof(GatewayHub)))));
    }

    private static HubLifetimeManager<GatewayHub> Create(IServiceProvider provider, ServiceDescriptor registered) =>
        registered.ImplementationInstance as HubLifetimeManager<GatewayHub>
            ?? registered.ImplementationFactory?.Invoke(provider) as HubLifetimeManager<GatewayHub>
            ?? (HubLifetimeManager<GatewayHub>)ActivatorUtilities.CreateInstance(provider, registered.ImplementationType!);

    private static void DecorateProtocolResolver(IServiceCollection services, long maxMessageBytes)
    {
        var registered = services.Last(d => d.ServiceType == typeof(IHubProtocolResolver));
        services[services.IndexOf(registered)] = ServiceDescriptor.Singleton<IHubProtocolResolver>(provider => new MessageSizeHubProtocolResolver(
            registered.ImplementationInstance as IHubProtocolResolver
                ?? registered.ImplementationFactory?.Invoke(provider) as IHubProtocolResolver
                ?? (IHubProtocolResolver)ActivatorUtilities.CreateInstance(provider, registered.ImplementationType!),
            maxMessageBytes));
    }

    public static WebApplication MapGatewaySessions(this WebApplication app)
    {
        app.MapHub<GatewayHub>(GatewayRoutes.Hub, options =>
        {
            options.Transports = HttpTransportType.WebSockets | HttpTransportType.ServerSentEvents | HttpTransportType.LongPolling;
            // A connection whose token expires is closed (SignalR checks on each transport read).
            options.CloseOnAuthenticationExpiration = true;
        });
        app.MapSessionsApi();
        app.MapRealtimeStatsApi();
        app.MapSchemaApi();
        return app;
    }
}
