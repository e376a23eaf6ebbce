using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Gateway.Contracts;
using Gateway.Testing;

namespace Gateway.Server.Tests.Origins;

/// <summary>
/// With Auth:AllowAnonymous any page a developer opens can reach a local gateway: it cannot act from a foreign origin,
/// and the anonymous user has no role that reveals secrets unless Auth:AnonymousRoles says so.
/// </summary>
public sealed class AnonymousOriginTests
{
    private static GatewayTestServer Anonymous(params (string Key, string Value)[] settings)
    {
        var all = new Dictionary<string, string?> { ["Auth:AllowAnonymous"] = "true" };
        foreach (var (key, value) in settings)
        {
            all[key] = value;
        }

        return new GatewayTestServer(all);
    }

    private static async Task<HttpResponseMessage> PostAsync(HttpClient client, string path, HttpContent? content, string? origin)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(path, UriKind.Relative)) { Content = content };
        if (origin is not null)
        {
            request.Headers.TryAddWithoutValidation("Origin", origin);
        }

        return await client.SendAsync(request);
    }

    [Fact]
    public async Task A_simple_cross_origin_post_is_refused_and_the_same_post_without_origin_acts_as_anonymous()
    {
        using var server = Anonymous();
        using var client = server.CreateHttpClient();
        const string body = """{"title":"from a page","taskType":"indexing"}""";

        // What a foreign page can send without a preflight: a form-like POST with a text/plain body and no token.
        using var foreign = await PostAsync(client, "/api/tasks", new StringContent(body, Encoding.UTF8, "text/plain"), "http://evil.example");
        using var direct = await PostAsync(client, "/api/tasks", new StringContent(body, Encoding.UTF8, "application/json"), origin: null);

        Assert.Equal(HttpStatusCode.Forbidden, foreign.StatusCode);
        Assert.Equal(HubErrorCodes.Forbidden, (await foreign.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("code").GetString());
        Assert.Equal(HttpStatusCode.Created, direct.StatusCode);
        Assert.Equal(1, server.Database.QueryLong("SELECT COUNT(*) FROM tasks"));
    }

    [Fact]
    public async Task The_anonymous_user_has_dashboard_and_agent_but_not_admin_by_default()
    {
        using var server = Anonymous();
        using var client = server.CreateHttpClient();

        var me = await client.GetFromJsonAsync<JsonElement>(new Uri("/api/me", UriKind.Relative));
        using var configurations = await client.GetAsync(new Uri("/api/configurations", UriKind.Relative));
        using var reveal = await PostAsync(client, "/api/configurations/api.key/reveal", content: null, origin: null);
        using var sessions = await client.GetAsync(new Uri("/api/sessions", UriKind.Relative));

        Assert.Equal("anonymous", me.GetProperty("userId").GetString());
        Assert.Equal(["dashboard", "agent"], me.GetProperty("roles").EnumerateArray().Select(r => r.GetString()));
        Assert.Equal(HttpStatusCode.Forbidden, configurations.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, reveal.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, sessions.StatusCode);
    }

    [Fact]
    public async Task Admin_is_the_anonymous_users_only_when_configured()
    {
        using var server = Anonymous(("Auth:AnonymousRoles:0", GatewayRoles.Admin));
        using var client = server.CreateHttpClient();

        using var configurations = await client.GetAsync(new Uri("/api/configurations", UriKind.Relative));

        Assert.Equal(HttpStatusCode.OK, configurations.StatusCode);
    }
}
