using Gateway.Server.Auth;
using Gateway.Server.Database;
using Microsoft.Extensions.Options;

namespace Gateway.Server.Api;

/// <summary>
/// <c>GET /api/schema</c>: who owns the orchestrator's migrations and the values this database allows in each enum
/// column (from its CHECK constraints): a client shows and sends only those (the dashboard's board has a column per
/// task status the database has).
/// </summary>
internal static class SchemaApi
{
    public static RouteHandlerBuilder MapSchemaApi(this IEndpointRouteBuilder endpoints) =>
        endpoints.MapGet("/api/schema", GetSchema)
            .WithTags("Schema")
            .WithName(nameof(GetSchema))
            .RequireAuthorization(GatewayPolicies.User);

    public static SchemaView GetSchema(SchemaValues schema, IOptions<MigrationOptions> migrations)
    {
        var sets = schema.Sets;
        return new SchemaView(
            migrations.Value.OrchestratorIsExternal ? MigrationOptions.ExternalMode : MigrationOptions.ApplyMode,
            SchemaValueSets.Ordered(sets.TaskStatuses),
            SchemaValueSets.Ordered(sets.WorkflowStatuses),
            SchemaValueSets.Ordered(sets.ToolExecutionStatuses),
            SchemaValueSets.Ordered(sets.ConnectionTypes),
            SchemaValueSets.Ordered(sets.ValueTypes));
    }
}

/// <param name="OrchestratorMigrations"><c>apply</c> (Gateway applies the orchestrator's migrations) or <c>external</c> (the orchestrator does).</param>
internal sealed record SchemaView(
    string OrchestratorMigrations,
    IReadOnlyList<string> TaskStatuses,
    IReadOnlyList<string> WorkflowStatuses,
    IReadOnlyList<string> ToolExecutionStatuses,
    IReadOnlyList<string> ConnectionTypes,
    IReadOnlyList<string> ConfigurationValueTypes);
