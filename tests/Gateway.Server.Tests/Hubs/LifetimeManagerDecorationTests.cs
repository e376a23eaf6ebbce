using Gateway.Server.Hubs;
using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Gateway.Server.Tests.Hubs;

/// <summary>
/// The gateway's lifetime-manager decorator wraps whichever lifetime manager is registered (a backplane's, for every
/// hub or for the gateway's alone), not SignalR's default one only.
/// </summary>
public sealed class LifetimeManagerDecorationTests
{
    [Fact]
    public async Task A_backplane_registered_for_every_hub_is_wrapped_and_receives_the_sends()
    {
        var services = Services();
        services.AddSingleton(typeof(HubLifetimeManager<>), typeof(RecordingLifetimeManager<>));

        var (manager, recorder) = Decorated(services);
        await manager.SendAllAsync("Ping", []);

        Assert.IsType<ProtocolCapturingHubLifetimeManager<GatewayHub>>(manager);
        Assert.Equal(["SendAll Ping"], recorder.Calls);
    }

    [Fact]
    public async Task A_lifetime_manager_registered_for_the_gateways_hub_alone_is_wrapped()
    {
        var services = Services();
        services.AddSingleton<HubLifetimeManager<GatewayHub>>(provider =>
            new RecordingLifetimeManager<GatewayHub>(provider.GetRequiredService<Recorder>(), provider.GetRequiredService<ILogger<DefaultHubLifetimeManager<GatewayHub>>>()));

        var (manager, recorder) = Decorated(services);
        await manager.SendGroupAsync("admins", "Ping", []);

        Assert.IsType<ProtocolCapturingHubLifetimeManager<GatewayHub>>(manager);
        Assert.Equal(["SendGroup admins Ping"], recorder.Calls);
        Assert.Single(services, d => d.ServiceType == typeof(HubLifetimeManager<GatewayHub>));
    }

    [Fact]
    public void SignalRs_own_manager_is_wrapped_when_nothing_else_is_registered()
    {
        var (manager, _) = Decorated(Services());

        Assert.IsType<ProtocolCapturingHubLifetimeManager<GatewayHub>>(manager);
    }

    private static ServiceCollection Services()
    {
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddSignalR();
        services.AddSingleton<Recorder>();
        return services;
    }

    private static (HubLifetimeManager<GatewayHub> Manager, Recorder Recorder) Decorated(ServiceCollection services)
    {
        GatewayHubServiceCollectionExtensions.DecorateLifetimeManager(services);
        var provider = services.BuildServiceProvider();
        return (provider.GetRequiredService<HubLifetimeManager<GatewayHub>>(), provider.GetRequiredService<Recorder>());
    }

    public sealed class Recorder
    {
        public List<string> Calls { get; } = [];
    }

    /// <summary>A stand-in backplane: SignalR's own manager that records what it is asked to send.</summary>
    public sealed class RecordingLifetimeManager<THub>(Recorder recorder, ILogger<DefaultHubLifetimeManager<THub>> logger) : DefaultHubLifetimeManager<THub>(logger)
        where THub : Hub
    {
        public override Task SendAllAsync(string methodName, object?[] args, CancellationToken cancellationToken = default)
        {
            recorder.Calls.Add($"SendAll {methodName}");
            return base.SendAllAsync(methodName, args, cancellationToken);
        }

        public override Task SendGroupAsync(string groupName, string methodName, object?[] args, CancellationToken cancellationToken = default)
        {
            recorder.Calls.Add($"SendGroup {groupName} {methodName}");
            return base.SendGroupAsync(groupName, methodName, args, cancellationToken);
        }
    }
}
