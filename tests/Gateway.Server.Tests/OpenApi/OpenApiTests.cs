using System.Net;
using System.Text.Json;
using Gateway.Testing;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Gateway.Server.Tests.OpenApi;

/// <summary>The OpenAPI document covers every REST route, declares the bearer scheme, and is readable without a token.</summary>
public sealed class OpenApiTests : IDisposable
{
    private readonly GatewayTestServer _server = new();

    public void Dispose() => _server.Dispose();

    [Fact]
    public async Task The_document_lists_every_api_route_with_the_bearer_scheme()
    {
        using var anonymous = _server.CreateHttpClient();
        using var response = await anonymous.GetAsync(new Uri("/openapi/v1.json", UriKind.Relative));
        using var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync());

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var paths = document.RootElement.GetProperty("paths").EnumerateObject().Select(p => p.Name).ToHashSet(StringComparer.Ordinal);
        var routes = _server.Services.GetRequiredService<EndpointDataSource>().Endpoints
            .OfType<RouteEndpoint>()
            .Select(e => "/" + e.RoutePattern.RawText!.Trim('/'))
            .Where(pattern => pattern.StartsWith("/api/", StringComparison.Ordinal))
            .ToHashSet(StringComparer.Ordinal);
        Assert.NotEmpty(routes);
        Assert.Empty(routes.Except(paths));
        Assert.Equal("bearer", document.RootElement.GetProperty("components").GetProperty("securitySchemes").GetProperty("Bearer").GetProperty("scheme").GetString());
    }

    [Fact]
    public async Task The_interactive_page_is_served()
    {
        using var anonymous = _server.CreateHttpClient();
        using var response = await anonymous.GetAsync(new Uri("/scalar/v1", UriKind.Relative));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);

        // Offline: every script the page loads comes from the gateway itself.
        var html = await response.Content.ReadAsStringAsync();
        var scripts = System.Text.RegularExpressions.Regex.Matches(html, "src=\"([^\"]+)\"").Select(m => m.Groups[1].Value).ToList();
        Assert.NotEmpty(scripts);
        foreach (var script in scripts)
        {
            Assert.DoesNotContain("://", script, StringComparison.Ordinal);
            using var asset = await anonymous.GetAsync(new Uri(new Uri(_server.BaseAddress, "/scalar/v1"), script));
            Assert.Equal(HttpStatusCode.OK, asset.StatusCode);
        }
    }

    [Fact]
    public async Task Every_api_operation_declares_its_problem_answers()
    {
        using var document = await DocumentAsync();
        var operations = ApiOperations(document.RootElement).ToList();

        Assert.NotEmpty(operations);
        foreach (var (name, method, path, operation) in operations)
        {
            var responses = operation.GetProperty("responses");
            foreach (var status in new[] { "401", "403", "429" })
            {
                Assert.True(responses.TryGetProperty(status, out var response), $"{method} {path} lacks {status}");
                Assert.True(response.GetProperty("content").TryGetProperty("application/problem+json", out _), $"{method} {path} {status}");
            }

            if (path.Contains('{', StringComparison.Ordinal))
            {
                Assert.True(responses.TryGetProperty("404", out _), $"{method} {path} lacks 404");
            }

            if (method is "post" or "put" or "delete")
            {
                Assert.True(responses.TryGetProperty("400", out _), $"{method} {path} lacks 400 ({name})");
                Assert.True(responses.TryGetProperty("409", out _), $"{method} {path} lacks 409 ({name})");
            }
        }
    }

    [Fact]
    public async Task Every_request_body_has_an_example()
    {
        using var document = await DocumentAsync();

        var withBody = ApiOperations(document.RootElement).Where(o => o.Operation.TryGetProperty("requestBody", out _)).ToList();

        Assert.NotEmpty(withBody);
        foreach (var (name, method, path, operation) in withBody)
        {
            var json = operation.GetProperty("requestBody").GetProperty("content").GetProperty("application/json");
            Assert.True(json.TryGetProperty("example", out _), $"{method} {path} ({name}) has no request example");
        }
    }

    [Theory]
    [InlineData("CreateTask", "/api/tasks", "POST")]
    [InlineData("CreateWorkflow", "/api/workflows", "POST")]
    [InlineData("SetConfiguration", "/api/configurations/tool.timeout", "PUT")]
    public async Task The_documented_examples_are_accepted_by_the_gateway(string operationName, string path, string method)
    {
        using var document = await DocumentAsync();
        var example = ApiOperations(document.RootElement).Single(o => o.Name == operationName)
            .Operation.GetProperty("requestBody").GetProperty("content").GetProperty("application/json").GetProperty("example").GetRawText();
        var admin = _server.As("docs-reader", Gateway.Contracts.GatewayRoles.Admin);

        using var request = new HttpRequestMessage(new HttpMethod(method), new Uri(path, UriKind.Relative))
        {
            Content = new StringContent(example, System.Text.Encoding.UTF8, "application/json"),
        };
        using var response = await admin.SendAsync(request);

        Assert.True(response.IsSuccessStatusCode, $"{operationName}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
    }

    private async Task<JsonDocument> DocumentAsync()
    {
        using var anonymous = _server.CreateHttpClient();
        return JsonDocument.Parse(await anonymous.GetStringAsync(new Uri("/openapi/v1.json", UriKind.Relative)));
    }

    private static IEnumerable<(string Name, string Method, string Path, JsonElement Operation)> ApiOperations(JsonElement root) =>
        from path in root.GetProperty("paths").EnumerateObject()
        where path.Name.StartsWith("/api/", StringComparison.Ordinal)
        from operation in path.Value.EnumerateObject()
        where operation.Name is "get" or "post" or "put" or "delete" or "patch"
        select (operation.Value.TryGetProperty("operationId", out var id) ? id.GetString() ?? string.Empty : string.Empty,
            operation.Name, path.Name, operation.Value);
}
