using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Gateway.Contracts;
using Gateway.Testing;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;

namespace Gateway.Server.Tests.Orchestration;

/// <summary>
/// What cannot be stored and served back is refused before anything is written (REST 400 naming the field, hub
/// invalid_argument, in both protocols); a row the gateway cannot serve, written by another program, never fails a
/// list; numbers out of range are 400s, not 500s.
/// </summary>
[Trait(TestProviders.Trait, TestProviders.Both)]
public sealed class StorableInputTests : IDisposable
{
    private readonly GatewayTestServer _server = new();

    private HttpClient Agent => _server.As("agent-1", GatewayRoles.Agent);

    private HttpClient Admin => _server.As("root", GatewayRoles.Admin);

    public void Dispose() => _server.Dispose();

    /// <summary>JSON text System.Text.Json reads but cannot write back, or that another database could not hold.</summary>
    public static TheoryData<string, string> UnstorableJson() => new()
    {
        { """{"a":"\ud800"}""", "$.config.a" },
        { """{"a":["x","\udc00y"]}""", "$.config.a[1]" },
        { """{"\ud800":1}""", "$.config" },
        { """{"a":1,"a":2}""", "$.config.a" },
        { """{"a":"nul\u0000"}""", "$.config.a" },
        // 40 levels: System.Text.Json reads it, but a list wrapping it would pass the writer's 64.
        { Nested(40), "$.config" + string.Concat(Enumerable.Repeat(".a", 32)) },
        { """{"a":""" + new string('[', 32) + new string(']', 32) + "}", "$.config.a" + string.Concat(Enumerable.Repeat("[0]", 31)) },
    };

    /// <summary><paramref name="levels"/> objects, each the only property of the one around it.</summary>
    public static string Nested(int levels) =>
        string.Concat(Enumerable.Repeat("""{"a":""", levels - 1)) + "{}" + new string('}', levels - 1);

    [Theory]
    [MemberData(nameof(UnstorableJson))]
    public async Task A_json_field_that_cannot_be_served_back_is_refused_over_rest_and_nothing_is_written(string config, string field)
    {
        var body = $$"""{"title":"t","taskType":"build","config":{{config}}}""";
        using var response = await Agent.PostAsync(new Uri("/api/tasks", UriKind.Relative), new StringContent(body, Encoding.UTF8, "application/json"));
        var text = await response.Content.ReadAsStringAsync();

        Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{response.StatusCode}: {text}");
        Assert.Equal(field, JsonDocument.Parse(text).RootElement.GetProperty("errors").EnumerateObject().Single().Name);
        Assert.Equal(0, _server.Store.QueryLong("SELECT COUNT(*) FROM tasks"));
        Assert.Equal(0, _server.Store.QueryLong("SELECT COUNT(*) FROM gateway_events"));
        using var list = await Agent.GetAsync(new Uri("/api/tasks", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, list.StatusCode);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task The_same_values_are_refused_over_the_hub_in_both_protocols(bool messagePack)
    {
        await using var client = _server.CreateClient(GatewayTestServer.Token("agent-1", GatewayRoles.Agent), messagePack: messagePack);
        await client.StartAsync();
        foreach (var (config, _) in UnstorableJson().Select(row => ((string)row[0], (string)row[1])))
        {
            var error = await Assert.ThrowsAsync<HubException>(() =>
                client.Connection.InvokeAsync<TaskInfo>(nameof(ITaskHub.CreateTask), new CreateTaskCommand("t", "build", Config: config)));
            Assert.Contains("invalid_argument: $.config", error.Message, StringComparison.Ordinal);
        }

        foreach (var title in new[] { "nul\0", "bell\u0007", "c1\u0085", "tab\tin a title" })
        {
            var error = await Assert.ThrowsAsync<HubException>(() =>
                client.Connection.InvokeAsync<TaskInfo>(nameof(ITaskHub.CreateTask), new CreateTaskCommand(title, "build")));
            Assert.Contains("invalid_argument: $.title", error.Message, StringComparison.Ordinal);
        }

        Assert.Equal(0, _server.Store.QueryLong("SELECT COUNT(*) FROM tasks"));
    }

    [Theory]
    [InlineData("title", "\"a\\u0000b\"")]
    [InlineData("title", "\"line\\nbreak\"")]
    [InlineData("taskType", "\"x\\u001b[31m\"")]
    [InlineData("workspacePath", "\"/tmp/\\u0000\"")]
    public async Task Control_characters_in_names_are_refused(string field, string value)
    {
        var body = $$"""{"title":"t","taskType":"build","{{field}}":{{value}}}""";
        using var response = await Agent.PostAsync(new Uri("/api/tasks", UriKind.Relative), new StringContent(body, Encoding.UTF8, "application/json"));
        var text = await response.Content.ReadAsStringAsync();

        Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{response.StatusCode}: {text}");
        Assert.Contains($"$.{field}", text, StringComparison.Ordinal);
        Assert.Equal(0, _server.Store.QueryLong("SELECT COUNT(*) FROM tasks"));
    }

    [Fact]
    public async Task Free_text_keeps_line_breaks_and_non_ascii_is_stored_unescaped()
    {
        var created = await TasksApiTests.CreateAsync(Agent, "Überprüfung — 検証");
        var id = created.GetProperty("id").GetString()!;
        using var response = await Agent.PostAsJsonAsync(
            new Uri("/api/tasks", UriKind.Relative),
            new { title = "t", taskType = "build", description = "first line\nsecond\tline", config = new { note = "ação ✓" } });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);

        var stored = _server.Store.QueryString("SELECT config FROM tasks WHERE description IS NOT NULL");
        Assert.Equal("""{"note":"ação ✓"}""", stored);
        var payload = _server.Store.QueryString($"SELECT payload FROM gateway_events WHERE task_id = '{id}' AND event_type = 'task.created'");
        Assert.Contains("Überprüfung — 検証", payload, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("application/json; charset=\"utf-8\"", HttpStatusCode.Created)]
    [InlineData("application/json; charset=UTF-8", HttpStatusCode.Created)]
    [InlineData("application/json; charset=klingon", HttpStatusCode.UnsupportedMediaType)]
    [InlineData("application/json; charset=\"\"", HttpStatusCode.UnsupportedMediaType)]
    public async Task A_quoted_charset_is_read_and_an_unknown_one_is_415_not_500(string contentType, HttpStatusCode expected)
    {
        using var content = new ByteArrayContent(Encoding.UTF8.GetBytes("""{"title":"t","taskType":"build"}"""));
        content.Headers.TryAddWithoutValidation("Content-Type", contentType);
        using var response = await Agent.PostAsync(new Uri("/api/tasks", UriKind.Relative), content);
        var text = await response.Content.ReadAsStringAsync();

        Assert.True(response.StatusCode == expected, $"{response.StatusCode}: {text}");
        Assert.Equal(expected == HttpStatusCode.Created ? 1 : 0, _server.Store.QueryLong("SELECT COUNT(*) FROM tasks"));
        if (expected == HttpStatusCode.UnsupportedMediaType)
        {
            Assert.Equal("unsupported_media_type", JsonDocument.Parse(text).RootElement.GetProperty("code").GetString());
        }
    }

    [Fact]
    public async Task A_row_another_program_wrote_that_cannot_be_served_as_json_does_not_fail_the_list()
    {
        var good = (await TasksApiTests.CreateAsync(Agent, "good")).GetProperty("id").GetString()!;
        // json_valid accepts an escaped lone surrogate and a duplicate key; System.Text.Json cannot write the first back.
        _server.Store.QueryLong(
            """INSERT INTO tasks (id, title, task_type, config, metadata) VALUES ('bad-1', 'bad', 'build', '{"a":"\ud800"}', '{"k":1,"k":2}'); SELECT 1""");
        _server.Store.QueryLong($"INSERT INTO tasks (id, title, task_type, config) VALUES ('deep-1', 'deep', 'build', '{Nested(63)}'); SELECT 1");

        using var list = await Agent.GetAsync(new Uri("/api/tasks", UriKind.Relative));
        var text = await list.Content.ReadAsStringAsync();
        Assert.True(list.StatusCode == HttpStatusCode.OK, $"{list.StatusCode}: {text}");
        var items = JsonDocument.Parse(text).RootElement.GetProperty("items").EnumerateArray().ToList();
        Assert.Contains(items, item => item.GetProperty("id").GetString() == good);
        var bad = items.Single(item => item.GetProperty("id").GetString() == "bad-1");
        Assert.Equal(JsonValueKind.String, bad.GetProperty("config").ValueKind);
        Assert.Equal("""{"a":"\ud800"}""", bad.GetProperty("config").GetString());
        Assert.Equal(Nested(63), items.Single(item => item.GetProperty("id").GetString() == "deep-1").GetProperty("config").GetString());

        using var one = await Agent.GetAsync(new Uri("/api/tasks/bad-1", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, one.StatusCode);
    }

    [Theory]
    [InlineData("/api/tasks?page=2147483647")]
    [InlineData("/api/tasks?page=1000001")]
    [InlineData("/api/tasks?pageSize=2147483647")]
    [InlineData("/api/tasks?page=99999999999999")]
    [InlineData("/api/workflows?page=2147483647")]
    [InlineData("/api/configurations?page=2147483647")]
    [InlineData("/api/sessions?page=2147483647")]
    [InlineData("/api/sessions?staleSeconds=99999999999")]
    public async Task Numbers_out_of_range_are_400_naming_the_parameter(string url)
    {
        using var response = await Admin.GetAsync(new Uri(url, UriKind.Relative));
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{url}: {response.StatusCode}: {text}");
        var parameter = url[(url.IndexOf('?', StringComparison.Ordinal) + 1)..url.IndexOf('=', StringComparison.Ordinal)];
        Assert.Contains(parameter, text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_highest_page_answers_an_empty_page()
    {
        using var response = await Admin.GetAsync(new Uri("/api/tasks?page=1000000&pageSize=500", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task Configuration_values_that_cannot_be_stored_are_refused_without_echoing_them()
    {
        // Raw JSON text: a lone surrogate can only travel escaped; the client's serializer would refuse to write one.
        foreach (var (type, value) in new[] { ("string", "\"a\\u0000b\""), ("string", "\"x\\ud800\""), ("json", "\"{\\\"k\\\":\\\"\\\\ud800\\\"}\""), ("json", "\"{\\\"k\\\":1,\\\"k\\\":2}\""), ("json", JsonSerializer.Serialize(Nested(40))) })
        {
            var body = $$"""{"value":{{value}},"valueType":"{{type}}","isSecret":true}""";
            using var response = await Admin.PutAsync(new Uri("/api/configurations/x.y", UriKind.Relative), new StringContent(body, Encoding.UTF8, "application/json"));
            var text = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{type} {value} {response.StatusCode}: {text}");
            Assert.Contains("$.value", text, StringComparison.Ordinal);
            Assert.DoesNotContain("\"k\"", text, StringComparison.Ordinal);
        }

        Assert.Equal(0, _server.Store.QueryLong("SELECT COUNT(*) FROM configurations"));
    }
}
