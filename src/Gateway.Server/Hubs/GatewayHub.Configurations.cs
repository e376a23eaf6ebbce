using Gateway.Contracts;
using Gateway.Server.Orchestration;
using Gateway.Server.Orchestration.Configurations;

namespace Gateway.Server.Hubs;

/// <summary>
/// Configuration methods (<see cref="IConfigurationHub"/>), admin only: the same service as the REST API. SignalR
/// injects <see cref="ConfigurationService"/> (a registered service), so clients send the interface's arguments only.
/// </summary>
internal sealed partial class GatewayHub
{
    [RequireRole(GatewayRoles.Admin)]
    public async Task<ConfigurationInfo> SetConfiguration(string key, SetConfigurationCommand command, ConfigurationService configurations) =>
        ConfigurationHubMapping.ToInfo((await configurations.SetAsync(
            Caller.From(Context.User), key, ConfigurationHubMapping.FromCommand(command), Context.ConnectionAborted)).Configuration);

    [RequireRole(GatewayRoles.Admin)]
    public async Task<ConfigurationInfo> GetConfiguration(string key, ConfigurationService configurations) =>
        ConfigurationHubMapping.ToInfo(await configurations.GetAsync(Caller.From(Context.User), key, Context.ConnectionAborted));

    [RequireRole(GatewayRoles.Admin)]
    public async Task<ConfigurationPageInfo> ListConfigurations(string? valueType, string? prefix, int page, int pageSize, ConfigurationService configurations) =>
        ConfigurationHubMapping.ToInfo(await configurations.ListAsync(Caller.From(Context.User), valueType, prefix, page, pageSize, Context.ConnectionAborted));

    [RequireRole(GatewayRoles.Admin)]
    public Task<bool> DeleteConfiguration(string key, ConfigurationService configurations) =>
        configurations.DeleteAsync(Caller.From(Context.User), key, Context.ConnectionAborted);

    [RequireRole(GatewayRoles.Admin)]
    public async Task<RevealedConfiguration> RevealConfigurationSecret(string key, ConfigurationService configurations) =>
        ConfigurationHubMapping.ToInfo(await configurations.RevealAsync(Caller.From(Context.User), key, Context.ConnectionAborted));
}
