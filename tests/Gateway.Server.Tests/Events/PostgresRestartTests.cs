using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Gateway.Contracts;
using Gateway.Server.Tests.Sessions;
using Gateway.Testing;
using Microsoft.AspNetCore.Http.Connections;
using Xunit.Abstractions;

namespace Gateway.Server.Tests.Events;

/// <summary>
/// PostgreSQL halted as by a crash and started again while two nodes take changes: every change is acknowledged and
/// kept, or refused and absent; readiness fails while the database is down and comes back by itself; subscribers, one
/// of them resuming after the outage, get every event of the log once, in order.
/// </summary>
public sealed class PostgresRestartTests(ITestOutputHelper output)
{
    private static readonly Dictionary<string, string?> Settings = new()
    {
        ["RateLimits:WritesPerSecond"] = "0",
        // The outage here is a few seconds; under the default (cut off after 5 s without the database) a loaded
        // machine could cut the nodes off and send the steady subscriber away. Being cut off is PostgresNodeCutOffTests'.
        ["Node:LostAfterSeconds"] = "30",
    };

    private sealed class Outcomes
    {
        public ConcurrentBag<string> Acknowledged { get; } = [];

        public ConcurrentBag<string> NotWritten { get; } = [];

        public ConcurrentBag<string> Unknown { get; } = [];

        public ConcurrentBag<string> Unexpected { get; } = [];

        /// <summary>When each refusal was answered.</summary>
        public ConcurrentBag<DateTime> RefusedAt { get; } = [];
    }

    private static async Task WriteUntilAsync(GatewayTestServer node, string writer, Outcomes outcomes, CancellationToken stop)
    {
        using var client = node.CreateHttpClient(GatewayTestServer.Token(writer, GatewayRoles.Agent));
        for (var i = 0; !stop.IsCancellationRequested; i++)
        {
            var title = $"{writer} {i}";
            try
            {
                using var response = await client.PostAsJsonAsync(new Uri("/api/tasks", UriKind.Relative), new { title, taskType = "indexing" }, CancellationToken.None);
                var code = response.StatusCode == HttpStatusCode.ServiceUnavailable
                    ? (await response.Content.ReadFromJsonAsync<JsonElement>(CancellationToken.None)).GetProperty("code").GetString()
                    : null;
                var bag = (response.StatusCode, code) switch
                {
                    (HttpStatusCode.Created, _) => outcomes.Acknowledged,
                    (HttpStatusCode.ServiceUnavailable, "storage_unavailable") => outcomes.NotWritten,
                    (HttpStatusCode.ServiceUnavailable, HubErrorCodes.CommitOutcomeUnknown) => outcomes.Unknown,
                    _ => outcomes.Unexpected,
                };
                bag.Add(bag == outcomes.Unexpected ? $"{title}: {(int)response.StatusCode} {code}" : title);
                if (response.StatusCode != HttpStatusCode.Created)
                {
                    outcomes.RefusedAt.Add(DateTime.UtcNow);
                    await Task.Delay(100, CancellationToken.None);
                }
            }
            catch (HttpRequestException exception)
            {
                outcomes.Unexpected.Add($"{title}: {exception.Message}");
            }
        }
    }

    private static async Task<bool> ReadyAsync(GatewayTestServer node)
    {
        using var response = await node.CreateHttpClient().GetAsync(new Uri("/health/ready", UriKind.Relative));
        return response.IsSuccessStatusCode;
    }

    [Fact]
    public async Task A_crashed_and_restarted_database_loses_no_acknowledged_change_and_no_event_and_service_comes_back_by_itself()
    {
        await using var cluster = await OwnPostgresCluster.StartAsync();
        var database = await cluster.CreateDatabaseAsync("gateway");
        using var a = new GatewayTestServer(Settings, database, "node-a");
        using var b = new GatewayTestServer(Settings, database, "node-b");
        _ = a.BaseAddress;
        _ = b.BaseAddress;
        var (steady, steadyReceived) = await MultiNodeDeliveryTests.SubscribeAsync(a, HttpTransportType.WebSockets, messagePack: false);
        await using var _steady = steady;
        var (resuming, beforeOutage) = await MultiNodeDeliveryTests.SubscribeAsync(b, HttpTransportType.ServerSentEvents, messagePack: false);

        var outcomes = new Outcomes();
        using var stop = new CancellationTokenSource();
        var writers = new[]
        {
            WriteUntilAsync(a, "agent-a1", outcomes, stop.Token),
            WriteUntilAsync(a, "agent-a2", outcomes, stop.Token),
            WriteUntilAsync(a, "agent-a3", outcomes, stop.Token),
            WriteUntilAsync(b, "agent-b1", outcomes, stop.Token),
        };
        await SessionRowTests.Eventually(() => outcomes.Acknowledged.Count >= 40, TimeSpan.FromSeconds(20), "40 changes before the crash");

        await cluster.HaltAsync();
        var halted = DateTime.UtcNow;
        await resuming.DisposeAsync();
        var lastBefore = beforeOutage.IsEmpty ? 0 : beforeOutage.Max();
        // Readiness says so on both nodes while the database is down.
        var readyDuringOutage = true;
        for (var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10); DateTime.UtcNow < deadline && readyDuringOutage;)
        {
            readyDuringOutage = await ReadyAsync(a) || await ReadyAsync(b);
        }

        Assert.False(readyDuringOutage, "readiness still passed on a node with the database down");
        await Task.Delay(TimeSpan.FromSeconds(2) - (DateTime.UtcNow - halted) is { Ticks: > 0 } rest ? rest : TimeSpan.Zero);
        var acknowledgedBefore = outcomes.Acknowledged.Count;

        await cluster.RestartAsync();
        var restarted = DateTime.UtcNow;
        await SessionRowTests.Eventually(() => ReadyAsync(a).Result && ReadyAsync(b).Result, TimeSpan.FromSeconds(30), "both nodes ready again");
        var ready = DateTime.UtcNow;
        var readyAfter = ready - restarted;
        await SessionRowTests.Eventually(() => outcomes.Acknowledged.Count >= acknowledgedBefore + 40, TimeSpan.FromSeconds(30), "40 changes after the restart");
        await stop.CancelAsync();
        await Task.WhenAll(writers);

        var (resumed, afterOutage) = await MultiNodeDeliveryTests.SubscribeAsync(b, HttpTransportType.ServerSentEvents, messagePack: false, afterEventId: lastBefore);
        await using var _resumed = resumed;

        output.WriteLine($"acknowledged {outcomes.Acknowledged.Count}, refused as not written {outcomes.NotWritten.Count}, outcome unknown {outcomes.Unknown.Count}, refused after ready again {outcomes.RefusedAt.Count(at => at > ready)}; both nodes ready {readyAfter.TotalSeconds:0.0} s after the restart");
        Assert.Empty(outcomes.Unexpected);
        // Once readiness passes again, changes go through: no connection broken by the crash is handed out again.
        Assert.DoesNotContain(outcomes.RefusedAt, at => at > ready + TimeSpan.FromSeconds(0.5));
        Assert.NotEmpty(outcomes.NotWritten);
        var stored = database.QueryStrings("SELECT title FROM tasks").GroupBy(title => title).ToDictionary(g => g.Key, g => g.Count());
        Assert.All(outcomes.Acknowledged, title => Assert.Equal(1, stored.GetValueOrDefault(title)));
        Assert.All(outcomes.NotWritten, title => Assert.False(stored.ContainsKey(title), $"{title} was refused as not written, and is stored"));
        Assert.All(stored, row => Assert.True(row.Value == 1 && (outcomes.Acknowledged.Contains(row.Key) || outcomes.Unknown.Contains(row.Key)), $"{row.Key} stored {row.Value} times"));

        var logged = database.QueryLongs("SELECT id FROM gateway_events ORDER BY id");
        await SessionRowTests.Eventually(() => steadyReceived.Count >= logged.Length, TimeSpan.FromSeconds(15), $"all {logged.Length} events at the steady subscriber, got {steadyReceived.Count}");
        Assert.Equal(logged, steadyReceived.ToArray());
        var tail = logged.Where(id => id > lastBefore).ToArray();
        await SessionRowTests.Eventually(() => afterOutage.Count >= tail.Length, TimeSpan.FromSeconds(15), $"all {tail.Length} events after {lastBefore} at the resumed subscriber, got {afterOutage.Count}");
        Assert.Equal(logged.Where(id => id <= lastBefore), beforeOutage.ToArray());
        Assert.Equal(tail, afterOutage.ToArray());
    }
}
