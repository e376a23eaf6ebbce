using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using Gateway.Contracts;
using Gateway.Testing;
using static Gateway.Server.Tests.RateLimiting.RateLimitedResponses;

namespace Gateway.Server.Tests.RateLimiting;

/// <summary>REST requests count against their user's buckets, writes and reads apart; health and the dashboard's files never do.</summary>
public sealed class RestRateLimitTests : IDisposable
{
    private readonly GatewayTestServer _server = new(new Dictionary<string, string?>
    {
        ["RateLimits:WritesPerSecond"] = "1",
        ["RateLimits:WriteBurst"] = "3",
        ["RateLimits:ReadsPerSecond"] = "1",
        ["RateLimits:ReadBurst"] = "5",
    });

    private static readonly string[] DashboardFiles = ["/", "/index.html", "/js/main.js", "/css/dashboard.css"];

    public void Dispose() => _server.Dispose();

    private static Task<HttpResponseMessage> CreateTaskAsync(HttpClient client) =>
        client.PostAsJsonAsync(new Uri("/api/tasks", UriKind.Relative), new { title = "Index the repo", taskType = "indexing" });

    [Fact]
    public async Task Writes_over_a_users_bucket_get_429_with_retry_after_while_other_users_and_the_users_reads_carry_on()
    {
        var alice = _server.As("alice", GatewayRoles.Agent);
        var bob = _server.As("bob", GatewayRoles.Agent);

        var responses = await Task.WhenAll(Enumerable.Range(0, 10).Select(_ => CreateTaskAsync(alice)));

        // The burst of 3 passes; a refill (1/s) may add one on a slow machine; 10 at once cannot all pass.
        Assert.InRange(responses.Count(r => r.StatusCode == HttpStatusCode.Created), 3, 4);
        var refused = responses.Where(r => r.StatusCode != HttpStatusCode.Created).ToList();
        Assert.NotEmpty(refused);
        foreach (var response in refused)
        {
            await AssertRateLimitedAsync(response);
        }

        Assert.Equal(responses.Count(r => r.StatusCode == HttpStatusCode.Created), _server.Database.QueryLong("SELECT COUNT(*) FROM tasks"));
        using (var other = await CreateTaskAsync(bob))
        {
            Assert.Equal(HttpStatusCode.Created, other.StatusCode);
        }

        using (var read = await alice.GetAsync(new Uri("/api/tasks", UriKind.Relative)))
        {
            Assert.Equal(HttpStatusCode.OK, read.StatusCode);
        }

        await Task.Delay(refused[0].Headers.RetryAfter!.Delta!.Value);
        using var later = await CreateTaskAsync(alice);
        Assert.Equal(HttpStatusCode.Created, later.StatusCode);
        foreach (var response in responses)
        {
            response.Dispose();
        }
    }

    [Fact]
    public async Task Reads_have_their_own_bucket_and_health_and_dashboard_files_are_never_limited()
    {
        var viewer = _server.As("viewer", GatewayRoles.Dashboard);
        using var anonymous = _server.CreateHttpClient();

        var reads = await Task.WhenAll(Enumerable.Range(0, 12).Select(_ => viewer.GetAsync(new Uri("/api/me", UriKind.Relative))));
        var health = await Task.WhenAll(Enumerable.Range(0, 30).Select(i => anonymous.GetAsync(new Uri(i % 3 == 0 ? "/health/ready" : "/health/live", UriKind.Relative))));
        var files = await Task.WhenAll(DashboardFiles
            .SelectMany(path => Enumerable.Repeat(path, 5))
            .Select(path => anonymous.GetAsync(new Uri(path, UriKind.Relative))));

        Assert.InRange(reads.Count(r => r.StatusCode == HttpStatusCode.OK), 5, 6);
        await AssertRateLimitedAsync(reads.First(r => r.StatusCode != HttpStatusCode.OK));
        Assert.All(health, r => Assert.Equal(HttpStatusCode.OK, r.StatusCode));
        Assert.All(files, r => Assert.Equal(HttpStatusCode.OK, r.StatusCode));

        // A refused token is answered (401) without taking from anyone's bucket.
        using var stranger = _server.CreateHttpClient("not-a-token");
        var unauthorized = await Task.WhenAll(Enumerable.Range(0, 10).Select(_ => stranger.GetAsync(new Uri("/api/me", UriKind.Relative))));
        Assert.All(unauthorized, r => Assert.Equal(HttpStatusCode.Unauthorized, r.StatusCode));
        foreach (var response in reads.Concat(health).Concat(files).Concat(unauthorized))
        {
            response.Dispose();
        }
    }
}
