using Gateway.Contracts;
using Gateway.Server.Orchestration;
using Gateway.Server.Orchestration.Configurations;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Gateway.Server.Api;

/// <summary>
/// Admin REST over configurations: set (upsert), list, get, delete, reveal. Secrets are masked everywhere but reveal,
/// which is logged as config.secret_revealed. Errors: problem details.
/// </summary>
internal static class ConfigurationsApi
{
    public static RouteGroupBuilder MapConfigurationsApi(this IEndpointRouteBuilder endpoints)
    {
        var group = endpoints.MapGroup("/api/configurations")
            .WithTags("Configurations")
            .RequireAuthorization(policy => policy.RequireRole(GatewayRoles.Admin));
        group.MapPut("/{key}", SetConfiguration).WithName(nameof(SetConfiguration));
        group.MapGet("/", ListConfigurations).WithName(nameof(ListConfigurations));
        group.MapGet("/{key}", GetConfiguration).WithName(nameof(GetConfiguration));
        group.MapDelete("/{key}", DeleteConfiguration).WithName(nameof(DeleteConfiguration));
        group.MapPost("/{key}/reveal", RevealConfiguration).WithName(nameof(RevealConfiguration));
        return group;
    }

    /// <summary><c>PUT /api/configurations/{key}</c> {value, valueType, description?, isSecret?}: 201 when the key is new, else 200.</summary>
    public static async Task<Results<Created<ConfigurationView>, Ok<ConfigurationView>>> SetConfiguration(
        string key, SetConfigurationRequest request, HttpContext http, ConfigurationService configurations, CancellationToken cancellationToken)
    {
        var result = await configurations.SetAsync(Caller.From(http.User), key, request, cancellationToken);
        return result.Created
            ? TypedResults.Created($"/api/configurations/{Uri.EscapeDataString(key)}", result.Configuration)
            : TypedResults.Ok(result.Configuration);
    }

    /// <summary><c>GET /api/configurations?valueType=&amp;prefix=&amp;page=&amp;pageSize=</c>, ordered by key.</summary>
    public static async Task<Ok<ConfigurationPage>> ListConfigurations(
        HttpContext http,
        ConfigurationService configurations,
        string? valueType,
        string? prefix,
        string? page,
        string? pageSize,
        CancellationToken cancellationToken) =>
        TypedResults.Ok(await configurations.ListAsync(
            Caller.From(http.User),
            valueType,
            prefix,
            TasksApi.Number(page, nameof(page), 1),
            TasksApi.Number(pageSize, nameof(pageSize), 50),
            cancellationToken));

    public static async Task<Ok<ConfigurationView>> GetConfiguration(
        string key, HttpContext http, ConfigurationService configurations, CancellationToken cancellationToken) =>
        TypedResults.Ok(await configurations.GetAsync(Caller.From(http.User), key, cancellationToken));

    public static async Task<NoContent> DeleteConfiguration(
        string key, HttpContext http, ConfigurationService configurations, CancellationToken cancellationToken)
    {
        await configurations.DeleteAsync(Caller.From(http.User), key, cancellationToken);
        return TypedResults.NoContent();
    }

    /// <summary><c>POST /api/configurations/{key}/reveal</c>: the value in clear, not to be cached; a secret's reveal is logged.</summary>
    public static async Task<Ok<RevealedConfigurationValue>> RevealConfiguration(
        string key, HttpContext http, ConfigurationService configurations, CancellationToken cancellationToken)
    {
        var revealed = await configurations.RevealAsync(Caller.From(http.User), key, cancellationToken);
        http.Response.Headers.CacheControl = "no-store";
        return TypedResults.Ok(revealed);
    }
}
