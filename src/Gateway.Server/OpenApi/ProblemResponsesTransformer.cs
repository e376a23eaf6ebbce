using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace Gateway.Server.OpenApi;

/// <summary>
/// Declares the problem-detail answers every <c>/api</c> route can give, so clients generated from the document
/// know them: 401/403 and 429 (rate limits) everywhere, 400 where input is read, 404 where an id is addressed, 409,
/// 413 and 503 where things change. The handlers' own typed results stay authoritative; this only adds what middleware and the exception
/// handler produce outside them.
/// </summary>
internal sealed class ProblemResponsesTransformer : IOpenApiOperationTransformer
{
    private const string ProblemJson = "application/problem+json";
    private static readonly string[] ChangingMethods = ["POST", "PUT", "PATCH", "DELETE"];

    public async Task TransformAsync(OpenApiOperation operation, OpenApiOperationTransformerContext context, CancellationToken cancellationToken)
    {
        var description = context.Description;
        var path = "/" + (description.RelativePath ?? string.Empty);
        if (!path.StartsWith("/api/", StringComparison.Ordinal))
        {
            return;
        }

        var problem = await SharedSchemaAsync(context, typeof(ProblemDetails), cancellationToken);
        var validation = await SharedSchemaAsync(context, typeof(HttpValidationProblemDetails), cancellationToken);
        var changes = ChangingMethods.Contains(description.HttpMethod, StringComparer.OrdinalIgnoreCase);
        var readsInput = operation.RequestBody is not null || description.ParameterDescriptions.Any(p => p.Source.Id == "Query");

        operation.Responses ??= [];
        Add(operation, 401, "No token, or a token that is expired, not yet valid or wrongly signed.", problem);
        Add(operation, 403, "The token's roles do not allow this route (admin routes, changes by a dashboard token).", problem);
        if (readsInput || changes)
        {
            Add(operation, 400, "Invalid input: the field at fault is named in errors (malformed JSON, wrong type, unknown value).", validation,
                ProblemExamples.Validation);
        }

        if (path.Contains('{', StringComparison.Ordinal))
        {
            Add(operation, 404, "No such id.", problem, ProblemExamples.NotFound);
        }

        if (changes)
        {
            Add(operation, 409, "Refused by the current state: an illegal status transition, or expectedStatus did not match.", problem,
                ProblemExamples.Conflict);
        }

        if (changes)
        {
            Add(operation, 503, "The database stayed locked by another writer past Database:BusyTimeoutSeconds; nothing was written (Retry-After: 1).", problem);
        }

        Add(operation, 429, changes
                ? "More changes by this user than RateLimits:WritesPerSecond allows (code rate_limited); retry after Retry-After seconds."
                : "More reads by this user than RateLimits:ReadsPerSecond allows (code rate_limited); retry after Retry-After seconds.",
            problem, ProblemExamples.RateLimited);

        if (operation.RequestBody is not null)
        {
            Add(operation, 413, "The body is larger than Limits:MaxRequestBodyBytes.", problem);
        }

        if (RequestExamples.For(description.ActionDescriptor.EndpointMetadata) is { } example
            && operation.RequestBody?.Content?.TryGetValue("application/json", out var json) == true)
        {
            json.Example = example;
        }
    }

    /// <summary>One component per problem type, referenced from every response, instead of a copy in each.</summary>
    private static async Task<IOpenApiSchema> SharedSchemaAsync(OpenApiOperationTransformerContext context, Type type, CancellationToken cancellationToken)
    {
        var document = context.Document!;
        if (document.Components?.Schemas?.ContainsKey(type.Name) != true)
        {
            document.AddComponent(type.Name, await context.GetOrCreateSchemaAsync(type, cancellationToken: cancellationToken));
        }

        return new OpenApiSchemaReference(type.Name, document);
    }

    private static void Add(OpenApiOperation operation, int status, string description, IOpenApiSchema schema, System.Text.Json.Nodes.JsonNode? example = null)
    {
        var key = status.ToString(System.Globalization.CultureInfo.InvariantCulture);
        if (operation.Responses!.ContainsKey(key))
        {
            return;
        }

        operation.Responses[key] = new OpenApiResponse
        {
            Description = description,
            Content = new Dictionary<string, OpenApiMediaType>
            {
                [ProblemJson] = new() { Schema = schema, Example = example?.DeepClone() },
            },
        };
    }
}
