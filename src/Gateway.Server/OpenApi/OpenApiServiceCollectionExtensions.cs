using Microsoft.OpenApi;
using Scalar.AspNetCore;

namespace Gateway.Server.OpenApi;

public static class OpenApiServiceCollectionExtensions
{
    /// <summary>The OpenAPI document of every REST endpoint, with the bearer scheme the gateway requires.</summary>
    public static IServiceCollection AddGatewayOpenApi(this IServiceCollection services) =>
        services.AddOpenApi(options => options.AddOperationTransformer<ProblemResponsesTransformer>().AddDocumentTransformer((document, _, _) =>
        {
            document.Info.Title = "Gateway";
            document.Info.Description =
                "The real-time front of the orchestrator's database. Every route needs a bearer JWT with a gateway role "
                + "(admin, dashboard, agent): mint one with `Gateway.Server token create`. Errors are RFC 9457 problem details.";
            document.Components ??= new OpenApiComponents();
            document.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>();
            document.Components.SecuritySchemes["Bearer"] = new OpenApiSecurityScheme
            {
                Type = SecuritySchemeType.Http,
                Scheme = "bearer",
                BearerFormat = "JWT",
                Description = "A token from `Gateway.Server token create --user U --role R`.",
            };
            document.Security = [new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference("Bearer", document)] = [] }];
            return Task.CompletedTask;
        }));

    /// <summary><c>/openapi/v1.json</c> and the interactive page <c>/scalar/v1</c>; both readable without a token.</summary>
    public static WebApplication MapGatewayOpenApi(this WebApplication app)
    {
        app.MapOpenApi().AllowAnonymous();
        app.MapScalarApiReference().AllowAnonymous();
        return app;
    }
}
