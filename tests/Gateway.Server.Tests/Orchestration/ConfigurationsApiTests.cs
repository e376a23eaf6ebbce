using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Gateway.Contracts;
using Gateway.Testing;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Gateway.Server.Tests.Orchestration;

/// <summary>Configurations over REST and the hub: every endpoint and method, each value type, bad input, roles.</summary>
public sealed class ConfigurationsApiTests : IDisposable
{
    private readonly GatewayTestServer _server = new();
    private readonly HttpClient _admin;

    public ConfigurationsApiTests()
    {
        _admin = _server.CreateHttpClient(GatewayTestServer.Token("root", GatewayRoles.Admin));
    }

    public void Dispose()
    {
        _admin.Dispose();
        _server.Dispose();
    }

    internal static Task<HttpResponseMessage> PutAsync(HttpClient client, string key, object body) =>
        client.PutAsJsonAsync(new Uri($"/api/configurations/{key}", UriKind.Relative), body);

    internal static async Task<HttpResponseMessage> PutRawAsync(HttpClient client, string key, string json)
    {
        using var content = new StringContent(json, Encoding.UTF8, "application/json");
        return await client.PutAsync(new Uri($"/api/configurations/{key}", UriKind.Relative), content);
    }

    private long Events(string type, string key) => _server.Store.QueryLong(
        $"SELECT COUNT(*) FROM gateway_events WHERE event_type = '{type}' AND {_server.Store.JsonText("payload", "key")} = '{key}'");

    private string LastPayload(string type, string key)
    {
        // Both come from the test itself, never from a client.
        return _server.Store.QueryString(
            $"SELECT payload FROM gateway_events WHERE event_type = '{type}' AND {_server.Store.JsonText("payload", "key")} = '{key}' ORDER BY id DESC LIMIT 1")!;
    }

    private async Task<TestHubClient> ConnectAsync(string user, string role, bool messagePack = false)
    {
        var client = _server.CreateClient(GatewayTestServer.Token(user, role), messagePack: messagePack);
        await client.StartAsync();
        return client;
    }

    [Trait(TestProviders.Trait, TestProviders.Both)]
    [Fact]
    public async Task Put_creates_with_201_updates_with_200_and_get_returns_the_row()
    {
        using var created = await PutAsync(_admin, "agents.max_parallel", new { value = "4", valueType = "integer", description = "How many agents run at once" });
        using var updated = await PutAsync(_admin, "agents.max_parallel", new { value = "8", valueType = "integer" });
        var fetched = await _admin.GetFromJsonAsync<JsonElement>(new Uri("/api/configurations/agents.max_parallel", UriKind.Relative));
        using var cleared = await PutAsync(_admin, "agents.max_parallel", new { value = "8", valueType = "integer", description = "" });
        var afterClear = await cleared.Content.ReadFromJsonAsync<JsonElement>();

        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        Assert.Equal("/api/configurations/agents.max_parallel", created.Headers.Location?.OriginalString);
        Assert.Equal(HttpStatusCode.OK, updated.StatusCode);
        Assert.Equal("8", fetched.GetProperty("value").GetString());
        Assert.Equal("integer", fetched.GetProperty("valueType").GetString());
        Assert.Equal("How many agents run at once", fetched.GetProperty("description").GetString());
        Assert.False(fetched.GetProperty("isSecret").GetBoolean());
        Assert.False(fetched.GetProperty("masked").GetBoolean());
        Assert.True(fetched.GetProperty("updatedAt").GetDateTime() >= fetched.GetProperty("createdAt").GetDateTime());
        Assert.Equal(JsonValueKind.Null, afterClear.GetProperty("description").ValueKind);
        Assert.Equal(3, Events(EventTypes.ConfigChanged, "agents.max_parallel"));
        using var payload = JsonDocument.Parse(LastPayload(EventTypes.ConfigChanged, "agents.max_parallel"));
        Assert.Equal("8", payload.RootElement.GetProperty("value").GetString());
        Assert.Equal("integer", payload.RootElement.GetProperty("value_type").GetString());
        Assert.False(payload.RootElement.GetProperty("is_secret").GetBoolean());
        Assert.True(payload.RootElement.TryGetProperty("timestamp", out _));
        Assert.Equal(1, _server.Store.QueryLong("SELECT priority FROM gateway_events WHERE event_type = 'config.changed' LIMIT 1"));
        Assert.Equal("8", (await _admin.GetFromJsonAsync<JsonElement>(new Uri("/api/configurations/agents.max_parallel", UriKind.Relative))).GetProperty("value").GetString());
    }

    [Trait(TestProviders.Trait, TestProviders.Both)]
    [Theory]
    [InlineData("string", "")]
    [InlineData("string", "any text, même accentuée ✓")]
    [InlineData("integer", "42")]
    [InlineData("integer", "-9223372036854775808")]
    [InlineData("integer", "9223372036854775807")]
    [InlineData("integer", "+7")]
    [InlineData("float", "0.25")]
    [InlineData("float", "-1e-3")]
    [InlineData("float", "3")]
    [InlineData("float", "1.7976931348623157E+308")]
    [InlineData("boolean", "true")]
    [InlineData("boolean", "false")]
    [InlineData("json", "{\"retries\": [1, 2, 3], \"nested\": {\"on\": true}}")]
    [InlineData("json", "\"just a string\"")]
    [InlineData("json", "null")]
    [InlineData("json", " [ ] ")]
    public async Task Each_value_type_accepts_good_values_and_stores_them_as_given(string type, string value)
    {
        using var response = await PutAsync(_admin, "good.value", new { value, valueType = type });
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        Assert.Equal(value, body.GetProperty("value").GetString());
        Assert.Equal(type, body.GetProperty("valueType").GetString());
        Assert.Equal(1, _server.Store.QueryLong($"SELECT COUNT(*) FROM configurations WHERE key = 'good.value' AND value_type = '{type}'"));
    }

    public static TheoryData<string, string> BadValues => new()
    {
        { "integer", "4.2" },
        { "integer", "9223372036854775808" },
        { "integer", " 42" },
        { "integer", "1,000" },
        { "integer", "0x10" },
        { "integer", "" },
        { "float", "NaN" },
        { "float", "Infinity" },
        { "float", "-Infinity" },
        { "float", "1e400" },
        { "float", "1,5" },
        { "float", "" },
        { "boolean", "True" },
        { "boolean", "1" },
        { "boolean", "yes" },
        { "boolean", " true" },
        { "json", "{\"a\": }" },
        { "json", "{'a': 1}" },
        { "json", "[1, 2,]" },
        { "json", "// comment\n{}" },
        { "json", "" },
        { "string", new string('x', 64 * 1024 + 1) },
        { "string", new string('é', 32 * 1024 + 1) },
    };

    [Theory]
    [MemberData(nameof(BadValues))]
    public async Task Each_value_type_refuses_bad_values_with_a_400_naming_value_and_the_type(string type, string value)
    {
        using var response = await PutAsync(_admin, "bad.value", new { value, valueType = type });
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("invalid_argument", problem.GetProperty("code").GetString());
        Assert.True(problem.GetProperty("errors").TryGetProperty("$.value", out var errors), problem.ToString());
        Assert.Contains(type, errors[0].GetString(), StringComparison.Ordinal);
        Assert.Equal(0, _server.Store.QueryLong("SELECT COUNT(*) FROM configurations"));
        Assert.Equal(0, _server.Store.QueryLong("SELECT COUNT(*) FROM gateway_events"));
    }

    [Fact]
    public async Task Malformed_json_values_are_refused_with_their_line_and_byte()
    {
        using var response = await PutAsync(_admin, "bad.json", new { value = "{\n  \"a\": }", valueType = "json" });
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(
            "is not well-formed JSON for value_type json (line 2, byte 8)",
            problem.GetProperty("errors").GetProperty("$.value")[0].GetString());
    }

    [Theory]
    [InlineData("{\"value\": \"1\", \"valueType\": ", "Malformed JSON")]
    [InlineData("not json", "Malformed JSON")]
    [InlineData("{\"value\": 42, \"valueType\": \"integer\"}", "$.value")]
    [InlineData("{\"value\": \"1\", \"valueType\": \"int\"}", "$.valueType")]
    [InlineData("{\"value\": \"1\"}", "$.valueType")]
    [InlineData("{\"valueType\": \"string\"}", "$.value")]
    [InlineData("{\"value\": \"1\", \"valueType\": \"integer\", \"isSecret\": \"yes\"}", "$.isSecret")]
    public async Task Bad_bodies_are_400_problems_with_the_path_and_change_nothing(string body, string expected)
    {
        using var response = await PutRawAsync(_admin, "some.key", body);
        var text = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains(expected, text, StringComparison.Ordinal);
        Assert.Equal(0, _server.Store.QueryLong("SELECT COUNT(*) FROM configurations"));
    }

    [Theory]
    [InlineData("has%20space")]
    [InlineData("semi%3Bcolon")]
    [InlineData("%C3%A9t%C3%A9")]
    public async Task Keys_outside_the_allowed_characters_are_400(string key)
    {
        using var response = await PutAsync(_admin, key, new { value = "1", valueType = "integer" });
        using var tooLong = await PutAsync(_admin, new string('k', 201), new { value = "1", valueType = "integer" });
        using var longest = await PutAsync(_admin, new string('k', 200), new { value = "1", valueType = "integer" });
        using var allKinds = await PutAsync(_admin, "Az09._:-", new { value = "1", valueType = "integer" });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("\"key\"", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.BadRequest, tooLong.StatusCode);
        Assert.Equal(HttpStatusCode.Created, longest.StatusCode);
        Assert.Equal(HttpStatusCode.Created, allKinds.StatusCode);
    }

    [Trait(TestProviders.Trait, TestProviders.Both)]
    [Fact]
    public async Task Lists_filter_by_value_type_and_key_prefix_with_paging_in_key_order()
    {
        (await PutAsync(_admin, "llm.model", new { value = "gpt", valueType = "string" })).Dispose();
        (await PutAsync(_admin, "llm.temperature", new { value = "0.2", valueType = "float" })).Dispose();
        (await PutAsync(_admin, "llm.max_tokens", new { value = "4096", valueType = "integer" })).Dispose();
        (await PutAsync(_admin, "LLM.upper", new { value = "x", valueType = "string" })).Dispose();
        (await PutAsync(_admin, "agents.limit", new { value = "3", valueType = "integer" })).Dispose();

        // "key key ... of total"
        async Task<string> Keys(string query)
        {
            var page = await _admin.GetFromJsonAsync<JsonElement>(new Uri("/api/configurations" + query, UriKind.Relative));
            var keys = page.GetProperty("items").EnumerateArray().Select(c => c.GetProperty("key").GetString()!);
            return $"{string.Join(' ', keys)} of {page.GetProperty("total").GetInt32()}";
        }

        Assert.Equal("LLM.upper agents.limit llm.max_tokens llm.model llm.temperature of 5", await Keys(""));
        Assert.Equal("agents.limit llm.max_tokens of 2", await Keys("?valueType=integer"));
        Assert.Equal("llm.max_tokens llm.model llm.temperature of 3", await Keys("?prefix=llm."));
        Assert.Equal("llm.max_tokens of 1", await Keys("?prefix=llm.&valueType=integer"));
        Assert.Equal("llm.model of 3", await Keys("?prefix=llm.&page=2&pageSize=1"));
        Assert.Equal(" of 0", await Keys("?prefix=nothing"));
        using var badType = await _admin.GetAsync(new Uri("/api/configurations?valueType=text", UriKind.Relative));
        using var badPageSize = await _admin.GetAsync(new Uri("/api/configurations?pageSize=0", UriKind.Relative));
        using var badPage = await _admin.GetAsync(new Uri("/api/configurations?page=x", UriKind.Relative));
        Assert.All([badType, badPageSize, badPage], r => Assert.Equal(HttpStatusCode.BadRequest, r.StatusCode));
        Assert.Contains("valueType", await badType.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Trait(TestProviders.Trait, TestProviders.Both)]
    [Fact]
    public async Task Delete_removes_the_row_with_204_and_logs_config_deleted()
    {
        (await PutAsync(_admin, "to.delete", new { value = "true", valueType = "boolean" })).Dispose();

        using var deleted = await _admin.DeleteAsync(new Uri("/api/configurations/to.delete", UriKind.Relative));
        using var again = await _admin.DeleteAsync(new Uri("/api/configurations/to.delete", UriKind.Relative));
        using var fetched = await _admin.GetAsync(new Uri("/api/configurations/to.delete", UriKind.Relative));

        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, again.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, fetched.StatusCode);
        Assert.Equal(0, _server.Store.QueryLong("SELECT COUNT(*) FROM configurations"));
        Assert.Equal(1, Events(ConfigurationEventTypes.Deleted, "to.delete"));
        using var payload = JsonDocument.Parse(LastPayload(ConfigurationEventTypes.Deleted, "to.delete"));
        Assert.Equal("boolean", payload.RootElement.GetProperty("value_type").GetString());
    }

    [Fact]
    public async Task Unknown_keys_are_404_everywhere()
    {
        using var get = await _admin.GetAsync(new Uri("/api/configurations/nope", UriKind.Relative));
        using var delete = await _admin.DeleteAsync(new Uri("/api/configurations/nope", UriKind.Relative));
        using var reveal = await _admin.PostAsync(new Uri("/api/configurations/nope/reveal", UriKind.Relative), null);

        Assert.All([get, delete, reveal], r => Assert.Equal(HttpStatusCode.NotFound, r.StatusCode));
        Assert.Equal("not_found", (await get.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("code").GetString());
    }

    [Trait(TestProviders.Trait, TestProviders.Both)]
    [Fact]
    public async Task Secrets_are_masked_in_answers_and_events_and_revealed_only_on_request_with_a_logged_reveal()
    {
        using var created = await PutAsync(_admin, "llm.api_key", new { value = "sk-live-123", valueType = "string", isSecret = true });
        var createdBody = await created.Content.ReadAsStringAsync();
        var fetched = await _admin.GetFromJsonAsync<JsonElement>(new Uri("/api/configurations/llm.api_key", UriKind.Relative));
        var listed = await _admin.GetFromJsonAsync<JsonElement>(new Uri("/api/configurations", UriKind.Relative));
        using var reveal = await _admin.PostAsync(new Uri("/api/configurations/llm.api_key/reveal", UriKind.Relative), null);
        var revealed = await reveal.Content.ReadFromJsonAsync<JsonElement>();

        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        Assert.DoesNotContain("sk-live-123", createdBody, StringComparison.Ordinal);
        Assert.Equal(("********", true, true), (fetched.GetProperty("value").GetString(), fetched.GetProperty("masked").GetBoolean(), fetched.GetProperty("isSecret").GetBoolean()));
        Assert.Equal("********", listed.GetProperty("items")[0].GetProperty("value").GetString());
        Assert.True(listed.GetProperty("items")[0].GetProperty("masked").GetBoolean());
        Assert.Equal(HttpStatusCode.OK, reveal.StatusCode);
        Assert.Equal("no-store", reveal.Headers.CacheControl?.ToString());
        Assert.Equal(("llm.api_key", "string", "sk-live-123"), (revealed.GetProperty("key").GetString(), revealed.GetProperty("valueType").GetString(), revealed.GetProperty("value").GetString()));
        using var changed = JsonDocument.Parse(LastPayload(EventTypes.ConfigChanged, "llm.api_key"));
        Assert.False(changed.RootElement.TryGetProperty("value", out _));
        Assert.True(changed.RootElement.GetProperty("is_secret").GetBoolean());
        Assert.Equal(1, Events(ConfigurationEventTypes.SecretRevealed, "llm.api_key"));
        using var revealEvent = JsonDocument.Parse(LastPayload(ConfigurationEventTypes.SecretRevealed, "llm.api_key"));
        Assert.Equal("root", revealEvent.RootElement.GetProperty("revealed_by").GetString());
        Assert.False(revealEvent.RootElement.TryGetProperty("value", out _));
        Assert.True(revealEvent.RootElement.TryGetProperty("timestamp", out _));
        Assert.Equal(2, _server.Store.QueryLong("SELECT priority FROM gateway_events WHERE event_type = 'config.secret_revealed'"));
    }

    [Trait(TestProviders.Trait, TestProviders.Both)]
    [Fact]
    public async Task A_secret_stays_secret_when_updated_without_the_flag_and_can_be_made_public_and_back()
    {
        (await PutAsync(_admin, "db.password", new { value = "first", valueType = "string", isSecret = true })).Dispose();
        using var update = await PutAsync(_admin, "db.password", new { value = "second", valueType = "string" });
        var stillSecret = await update.Content.ReadFromJsonAsync<JsonElement>();
        using var madePublic = await PutAsync(_admin, "db.password", new { value = "third", valueType = "string", isSecret = false });
        var publicBody = await madePublic.Content.ReadFromJsonAsync<JsonElement>();
        var publicEvent = LastPayload(EventTypes.ConfigChanged, "db.password");
        using var madeSecret = await PutAsync(_admin, "db.password", new { value = "fourth", valueType = "string", isSecret = true });
        var secretAgain = await madeSecret.Content.ReadFromJsonAsync<JsonElement>();
        using var reveal = await _admin.PostAsync(new Uri("/api/configurations/db.password/reveal", UriKind.Relative), null);

        Assert.Equal((true, "********"), (stillSecret.GetProperty("isSecret").GetBoolean(), stillSecret.GetProperty("value").GetString()));
        Assert.Equal((false, "third", false), (publicBody.GetProperty("isSecret").GetBoolean(), publicBody.GetProperty("value").GetString(), publicBody.GetProperty("masked").GetBoolean()));
        Assert.Contains("\"third\"", publicEvent, StringComparison.Ordinal);
        Assert.Equal((true, "********"), (secretAgain.GetProperty("isSecret").GetBoolean(), secretAgain.GetProperty("value").GetString()));
        Assert.Equal("fourth", (await reveal.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("value").GetString());
        Assert.Equal(0, _server.Store.QueryLong("SELECT COUNT(*) FROM gateway_events WHERE payload LIKE '%first%' OR payload LIKE '%second%' OR payload LIKE '%fourth%'"));
    }

    [Fact]
    public async Task Revealing_a_value_that_is_not_secret_returns_it_without_a_reveal_event()
    {
        (await PutAsync(_admin, "ui.theme", new { value = "dark", valueType = "string" })).Dispose();

        using var reveal = await _admin.PostAsync(new Uri("/api/configurations/ui.theme/reveal", UriKind.Relative), null);

        Assert.Equal("dark", (await reveal.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("value").GetString());
        Assert.Equal(0, Events(ConfigurationEventTypes.SecretRevealed, "ui.theme"));
    }

    [Theory]
    [InlineData("GET", "/api/configurations")]
    [InlineData("GET", "/api/configurations/x")]
    [InlineData("PUT", "/api/configurations/x")]
    [InlineData("DELETE", "/api/configurations/x")]
    [InlineData("POST", "/api/configurations/x/reveal")]
    public async Task Non_admins_get_403_and_no_token_gets_401_on_every_route(string method, string path)
    {
        (await PutAsync(_admin, "x", new { value = "secret-x", valueType = "string", isSecret = true })).Dispose();
        HttpRequestMessage Request() => new(new HttpMethod(method), new Uri(path, UriKind.Relative))
        {
            Content = method == "PUT" ? JsonContent.Create(new { value = "1", valueType = "integer", isSecret = false }) : null,
        };

        foreach (var role in new[] { GatewayRoles.Dashboard, GatewayRoles.Agent })
        {
            using var client = _server.CreateHttpClient(GatewayTestServer.Token("someone", role));
            using var request = Request();
            using var forbidden = await client.SendAsync(request);
            Assert.Equal(HttpStatusCode.Forbidden, forbidden.StatusCode);
            Assert.DoesNotContain("secret-x", await forbidden.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        using var anonymous = _server.CreateHttpClient();
        using var anonymousRequest = Request();
        using var unauthorized = await anonymous.SendAsync(anonymousRequest);
        Assert.Equal(HttpStatusCode.Unauthorized, unauthorized.StatusCode);
        Assert.Equal(1, _server.Store.QueryLong("SELECT COUNT(*) FROM configurations WHERE key = 'x' AND value = 'secret-x' AND is_secret"));
        Assert.Equal(0, _server.Store.QueryLong("SELECT COUNT(*) FROM gateway_events WHERE event_type <> 'config.changed'"));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Admins_use_every_configuration_hub_method(bool messagePack)
    {
        await using var admin = await ConnectAsync("root", GatewayRoles.Admin, messagePack);
        var hub = admin.Connection;

        var created = await hub.InvokeAsync<ConfigurationInfo>(
            nameof(IConfigurationHub.SetConfiguration), "hub.secret", new SetConfigurationCommand("hub-value", "string", "via the hub", true));
        var plain = await hub.InvokeAsync<ConfigurationInfo>(nameof(IConfigurationHub.SetConfiguration), "hub.limits", new SetConfigurationCommand("{\"max\": 3}", "json"));
        var fetched = await hub.InvokeAsync<ConfigurationInfo>(nameof(IConfigurationHub.GetConfiguration), "hub.limits");
        var page = await hub.InvokeAsync<ConfigurationPageInfo>(nameof(IConfigurationHub.ListConfigurations), null, "hub.", 1, 10);
        var onlyJson = await hub.InvokeAsync<ConfigurationPageInfo>(nameof(IConfigurationHub.ListConfigurations), "json", null, 1, 10);
        var revealed = await hub.InvokeAsync<RevealedConfiguration>(nameof(IConfigurationHub.RevealConfigurationSecret), "hub.secret");
        var deleted = await hub.InvokeAsync<bool>(nameof(IConfigurationHub.DeleteConfiguration), "hub.limits");

        Assert.Equal(("hub.secret", "********", true, true, "via the hub"), (created.Key, created.Value, created.IsSecret, created.Masked, created.Description));
        Assert.Equal(("{\"max\": 3}", "json", false), (plain.Value, plain.ValueType, plain.Masked));
        Assert.Equal(plain.Value, fetched.Value);
        Assert.Equal(2, page.Total);
        Assert.Equal(["hub.limits", "hub.secret"], page.Items.Select(c => c.Key));
        Assert.Equal("********", page.Items[1].Value);
        Assert.Equal(["hub.limits"], onlyJson.Items.Select(c => c.Key));
        Assert.Equal(("hub.secret", "string", "hub-value"), (revealed.Key, revealed.ValueType, revealed.Value));
        Assert.True(deleted);
        Assert.Equal(1, Events(ConfigurationEventTypes.SecretRevealed, "hub.secret"));
        Assert.Equal(1, Events(ConfigurationEventTypes.Deleted, "hub.limits"));
        Assert.Equal(0, _server.Store.QueryLong("SELECT COUNT(*) FROM gateway_events WHERE payload LIKE '%hub-value%'"));
    }

    [Fact]
    public async Task Hub_refusals_carry_codes_and_the_field()
    {
        await using var admin = await ConnectAsync("root", GatewayRoles.Admin);
        var hub = admin.Connection;

        var badValue = await Assert.ThrowsAsync<HubException>(() =>
            hub.InvokeAsync<ConfigurationInfo>(nameof(IConfigurationHub.SetConfiguration), "k", new SetConfigurationCommand("4.5", "integer")));
        var badType = await Assert.ThrowsAsync<HubException>(() =>
            hub.InvokeAsync<ConfigurationInfo>(nameof(IConfigurationHub.SetConfiguration), "k", new SetConfigurationCommand("4", "number")));
        var badKey = await Assert.ThrowsAsync<HubException>(() =>
            hub.InvokeAsync<ConfigurationInfo>(nameof(IConfigurationHub.SetConfiguration), "a b", new SetConfigurationCommand("4", "integer")));
        var badPage = await Assert.ThrowsAsync<HubException>(() =>
            hub.InvokeAsync<ConfigurationPageInfo>(nameof(IConfigurationHub.ListConfigurations), null, null, 0, 10));
        var unknownGet = await Assert.ThrowsAsync<HubException>(() => hub.InvokeAsync<ConfigurationInfo>(nameof(IConfigurationHub.GetConfiguration), "nope"));
        var unknownDelete = await Assert.ThrowsAsync<HubException>(() => hub.InvokeAsync<bool>(nameof(IConfigurationHub.DeleteConfiguration), "nope"));
        var unknownReveal = await Assert.ThrowsAsync<HubException>(() =>
            hub.InvokeAsync<RevealedConfiguration>(nameof(IConfigurationHub.RevealConfigurationSecret), "nope"));

        Assert.Equal(HubErrorCodes.InvalidArgument, HubErrorCodes.CodeOf(badValue.Message));
        Assert.Contains("$.value", badValue.Message, StringComparison.Ordinal);
        Assert.Contains("integer", badValue.Message, StringComparison.Ordinal);
        Assert.Contains("$.valueType", badType.Message, StringComparison.Ordinal);
        Assert.Equal(HubErrorCodes.InvalidArgument, HubErrorCodes.CodeOf(badKey.Message));
        Assert.Equal(HubErrorCodes.InvalidArgument, HubErrorCodes.CodeOf(badPage.Message));
        Assert.All([unknownGet, unknownDelete, unknownReveal], e => Assert.Equal(HubErrorCodes.NotFound, HubErrorCodes.CodeOf(e.Message)));
        Assert.Equal(0, _server.Store.QueryLong("SELECT COUNT(*) FROM configurations"));
    }

    [Fact]
    public async Task Non_admins_get_a_forbidden_hub_error_on_every_configuration_method_and_stay_connected()
    {
        (await PutAsync(_admin, "k", new { value = "secret-k", valueType = "string", isSecret = true })).Dispose();
        (string Method, object?[] Args)[] calls =
        [
            (nameof(IConfigurationHub.SetConfiguration), ["k", new SetConfigurationCommand("1", "integer", IsSecret: false)]),
            (nameof(IConfigurationHub.GetConfiguration), ["k"]),
            (nameof(IConfigurationHub.ListConfigurations), [null, null, 1, 10]),
            (nameof(IConfigurationHub.DeleteConfiguration), ["k"]),
            (nameof(IConfigurationHub.RevealConfigurationSecret), ["k"]),
        ];

        foreach (var role in new[] { GatewayRoles.Dashboard, GatewayRoles.Agent })
        {
            await using var client = await ConnectAsync("someone", role);
            foreach (var (method, args) in calls)
            {
                var error = await Assert.ThrowsAsync<HubException>(() => client.Connection.InvokeCoreAsync(method, typeof(object), args));
                Assert.Equal(HubErrorCodes.Forbidden, HubErrorCodes.CodeOf(error.Message));
                Assert.DoesNotContain("secret-k", error.Message, StringComparison.Ordinal);
            }

            var reply = await client.Connection.InvokeAsync<HeartbeatReply>(nameof(IGatewayHub.Heartbeat));
            Assert.NotEqual(default, reply.ServerTime);
        }

        Assert.Equal(1, _server.Store.QueryLong("SELECT COUNT(*) FROM configurations WHERE key = 'k' AND value = 'secret-k'"));
        Assert.Equal(0, _server.Store.QueryLong("SELECT COUNT(*) FROM gateway_events WHERE event_type <> 'config.changed'"));
    }
}

/// <summary>
/// A secret never appears in any event (logged or received), any list or get answer, or any log line at trace level,
/// whatever path it goes through; only reveal returns it, and the reveal is logged without it.
/// </summary>
public sealed class ConfigurationsSecretLeakTests : IDisposable
{
    private readonly CapturingLoggerProvider _logs = new();
    private readonly GatewayTestServer _server;

    public ConfigurationsSecretLeakTests()
    {
        _server = _logs.StartServerLoggingEverything();
    }

    public void Dispose()
    {
        _server.Dispose();
        _logs.Dispose();
    }

    [Fact]
    public async Task A_secret_never_appears_in_any_event_list_answer_or_log_line()
    {
        var secret = "sekrit-" + Guid.NewGuid().ToString("N");
        var rotated = "rotated-" + Guid.NewGuid().ToString("N");
        var overHub = "{\"token\": \"hub-" + Guid.NewGuid().ToString("N") + "\"}";
        string[] secrets = [secret, rotated, overHub, overHub[11..^2]];
        var answers = new List<string>();
        using var admin = _server.CreateHttpClient(GatewayTestServer.Token("root", GatewayRoles.Admin));
        await using var subscriber = _server.CreateClient(GatewayTestServer.Token("root", GatewayRoles.Admin));
        var received = new ConcurrentQueue<GatewayEvent>();
        subscriber.Connection.On<GatewayEvent>(nameof(IGatewayClient.EventReceived), received.Enqueue);
        await subscriber.StartAsync();
        await subscriber.Connection.InvokeAsync<SubscriptionAck>(nameof(IEventSubscriptionHub.Subscribe), new SubscriptionRequest(SubscriptionScopes.All))
            .WaitAsync(TestHubConnections.Timeout);
        await using var hubAdmin = _server.CreateClient(GatewayTestServer.Token("root", GatewayRoles.Admin), messagePack: true);
        await hubAdmin.StartAsync();

        async Task Answer(Task<HttpResponseMessage> call)
        {
            using var response = await call;
            answers.Add($"{(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        }

        // REST: create, update without the flag, a refused update, get, list (all and filtered), and the wrong role.
        await Answer(ConfigurationsApiTests.PutAsync(admin, "llm.api_key", new { value = secret, valueType = "string", description = "provider key", isSecret = true }));
        await Answer(ConfigurationsApiTests.PutAsync(admin, "llm.api_key", new { value = rotated, valueType = "string" }));
        await Answer(ConfigurationsApiTests.PutAsync(admin, "llm.api_key", new { value = secret, valueType = "integer" }));
        await Answer(ConfigurationsApiTests.PutAsync(admin, "llm.api_key", new { value = overHub[..^1], valueType = "json" }));
        await Answer(admin.GetAsync(new Uri("/api/configurations/llm.api_key", UriKind.Relative)));
        await Answer(admin.GetAsync(new Uri("/api/configurations", UriKind.Relative)));
        await Answer(admin.GetAsync(new Uri("/api/configurations?prefix=llm.&valueType=string", UriKind.Relative)));
        using (var dashboard = _server.CreateHttpClient(GatewayTestServer.Token("viewer", GatewayRoles.Dashboard)))
        {
            await Answer(dashboard.GetAsync(new Uri("/api/configurations/llm.api_key", UriKind.Relative)));
            await Answer(dashboard.PostAsync(new Uri("/api/configurations/llm.api_key/reveal", UriKind.Relative), null));
        }

        // The hub: set a JSON secret, get, list; then a refused set.
        var hub = hubAdmin.Connection;
        answers.Add((await hub.InvokeAsync<ConfigurationInfo>(
            nameof(IConfigurationHub.SetConfiguration), "hub.credentials", new SetConfigurationCommand(overHub, "json", IsSecret: true))).ToString());
        var hubGet = await hub.InvokeAsync<ConfigurationInfo>(nameof(IConfigurationHub.GetConfiguration), "hub.credentials");
        var hubList = await hub.InvokeAsync<ConfigurationPageInfo>(nameof(IConfigurationHub.ListConfigurations), null, null, 1, 50);
        answers.Add(JsonSerializer.Serialize(hubGet));
        answers.Add(JsonSerializer.Serialize(hubList));
        var refused = await Assert.ThrowsAsync<HubException>(() => hub.InvokeAsync<ConfigurationInfo>(
            nameof(IConfigurationHub.SetConfiguration), "hub.credentials", new SetConfigurationCommand(secret, "boolean")));
        answers.Add(refused.Message);

        // The explicit reveals return the values, and only they.
        using var reveal = await admin.PostAsync(new Uri("/api/configurations/llm.api_key/reveal", UriKind.Relative), null);
        var revealedOverRest = (await reveal.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("value").GetString();
        var revealedOverHub = await hub.InvokeAsync<RevealedConfiguration>(nameof(IConfigurationHub.RevealConfigurationSecret), "hub.credentials");

        // Deleting a secret.
        await Answer(admin.DeleteAsync(new Uri("/api/configurations/llm.api_key", UriKind.Relative)));
        Assert.True(await hub.InvokeAsync<bool>(nameof(IConfigurationHub.DeleteConfiguration), "hub.credentials"));

        var lastId = _server.Store.QueryLong("SELECT MAX(id) FROM gateway_events");
        var deadline = DateTime.UtcNow + TestHubConnections.Timeout;
        while (!received.Any(e => e.Id >= lastId))
        {
            Assert.True(DateTime.UtcNow < deadline, $"event {lastId} not received");
            await Task.Delay(20);
        }

        var payloads = Payloads();
        Assert.Equal(rotated, revealedOverRest);
        Assert.Equal(overHub, revealedOverHub.Value);
        Assert.Equal(payloads.Count, received.Count);
        Assert.Equal(
            [EventTypes.ConfigChanged, EventTypes.ConfigChanged, EventTypes.ConfigChanged, ConfigurationEventTypes.SecretRevealed, ConfigurationEventTypes.SecretRevealed, ConfigurationEventTypes.Deleted, ConfigurationEventTypes.Deleted],
            received.Select(e => e.Type));
        Assert.All(received.Where(e => e.Type == ConfigurationEventTypes.SecretRevealed), e =>
        {
            using var payload = JsonDocument.Parse(e.Payload);
            Assert.Equal("root", payload.RootElement.GetProperty("revealed_by").GetString());
            Assert.Equal(EventPriorities.High, e.Priority);
            Assert.False(payload.RootElement.TryGetProperty("value", out _));
        });
        Assert.Contains(answers, a => a.StartsWith("403", StringComparison.Ordinal));
        Assert.Contains(answers, a => a.StartsWith("400", StringComparison.Ordinal) && a.Contains("$.value", StringComparison.Ordinal));
        var lines = _logs.Lines;
        Assert.Contains(lines, l => l.Contains("Microsoft.AspNetCore.SignalR", StringComparison.Ordinal) && l.Contains("SetConfiguration", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.Contains("Configuration llm.api_key set by root", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.Contains("Microsoft.EntityFrameworkCore.Database.Command", StringComparison.Ordinal));
        foreach (var value in secrets)
        {
            Assert.DoesNotContain(payloads, p => p.Contains(value, StringComparison.Ordinal));
            Assert.DoesNotContain(received, e => e.Payload.Contains(value, StringComparison.Ordinal));
            Assert.DoesNotContain(answers, a => a.Contains(value, StringComparison.Ordinal));
            Assert.DoesNotContain(lines, l => l.Contains(value, StringComparison.Ordinal));
        }
    }

    private List<string> Payloads() => [.. _server.Store.QueryStrings("SELECT payload FROM gateway_events ORDER BY id")];
}
