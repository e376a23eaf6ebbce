using Gateway.Contracts;
using Gateway.Server.Sessions;
using Microsoft.AspNetCore.Http.Connections;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Protocol;
using Microsoft.Extensions.Options;

namespace Gateway.Server.Hubs;

public static class GatewayHubServiceCollectionExtensions
{
    /// <summary>
    /// SignalR and the gateway's hub: JSON and MessagePack, message and invocation limits, the hub filter that codes
    /// every error, the protocol resolver and lifetime manager decorators. Sessions come from <c>AddGatewaySessions</c>.
    /// </summary>
    public static WebApplicationBuilder AddGatewayHub(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
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

    /// <summary>The hub on every transport.</summary>
    public static WebApplication MapGatewayHub(this WebApplication app)
    {
        app.MapHub<GatewayHub>(GatewayRoutes.Hub, options =>
        {
            options.Transports = HttpTransportType.WebSockets | HttpTransportType.ServerSentEvents | HttpTransportType.LongPolling;
            // A connection whose token expires is closed (SignalR checks on each transport read).
            options.CloseOnAuthenticationExpiration = true;
        });
        return app;
    }
}
