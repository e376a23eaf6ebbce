using System.Net;
using Gateway.Contracts;
using Gateway.Testing;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;

namespace Gateway.Server.Tests.Metrics;

/// <summary>
/// Runs alone: OpenTelemetry listens to meters by name, so another test server's "Gateway" meter in this process
/// would add to the counts.
/// </summary>
[CollectionDefinition(nameof(MetricsCollection), DisableParallelization = true)]
public sealed class MetricsCollection;

/// <summary>The Prometheus scrape shows what the gateway did, and only to admins.</summary>
[Collection(nameof(MetricsCollection))]
public sealed class MetricsTests : IDisposable
{
    private readonly GatewayTestServer _server = new(new Dictionary<string, string?> { ["Sessions:FlushIntervalSeconds"] = "0.2" }, nodeId: "metrics-node");

    public void Dispose() => _server.Dispose();

    /// <summary>The value of the series <paramref name="name"/> whose labels include every one of <paramref name="labels"/>.</summary>
    private static double Value(string scrape, string name, params string[] labels)
    {
        var line = scrape.Split('\n').FirstOrDefault(l =>
            (l.StartsWith(name + "{", StringComparison.Ordinal) || l.StartsWith(name + " ", StringComparison.Ordinal))
            && labels.All(label => l.Contains(label, StringComparison.Ordinal)));
        Assert.True(line is not null, $"no series {name} {string.Join(",", labels)} in:\n{scrape}");
        return double.Parse(line.Split(' ')[^1], System.Globalization.CultureInfo.InvariantCulture);
    }

    [Fact]
    public async Task Connections_heartbeats_events_database_and_hub_errors_are_measured()
    {
        await using var json = _server.CreateClient(GatewayTestServer.Token("viewer", GatewayRoles.Dashboard));
        await using var messagePack = _server.CreateClient(GatewayTestServer.Token("agent", GatewayRoles.Agent), messagePack: true);
        await json.StartAsync();
        await messagePack.StartAsync();
        var delivered = new TaskCompletionSource();
        json.Connection.On<GatewayEvent>(nameof(IGatewayClient.EventReceived), _ => delivered.TrySetResult());
        await json.Connection.InvokeAsync<SubscriptionAck>(nameof(IEventSubscriptionHub.Subscribe), new SubscriptionRequest(SubscriptionScopes.All));
        await messagePack.Connection.InvokeAsync<HeartbeatReply>(nameof(IGatewayHub.Heartbeat));
        await messagePack.Connection.InvokeAsync<TaskInfo>(nameof(ITaskHub.CreateTask), new CreateTaskCommand("measured", "x"));
        await Assert.ThrowsAsync<HubException>(() => messagePack.Connection.InvokeAsync<TaskInfo>(nameof(ITaskHub.GetTask), "nope"));
        await delivered.Task.WaitAsync(TestHubConnections.Timeout);
        await Task.Delay(500); // one heartbeat flush

        using var admin = _server.CreateHttpClient(GatewayTestServer.Token("root", GatewayRoles.Admin));
        var scrape = await admin.GetStringAsync(new Uri("/metrics", UriKind.Relative));

        Assert.Equal(1, Value(scrape, "gateway_connections", "protocol=\"json\"", "transport=\"websocket\""));
        Assert.Equal(1, Value(scrape, "gateway_connections", "protocol=\"messagepack\"", "transport=\"websocket\""));
        Assert.Equal(2, Value(scrape, "gateway_sessions_active"));
        Assert.Equal(1, Value(scrape, "gateway_heartbeats_received_total"));
        Assert.True(Value(scrape, "gateway_heartbeats_flush_size_count") >= 1);
        Assert.Equal(1, Value(scrape, "gateway_events_persisted_total"));
        Assert.Equal(1, Value(scrape, "gateway_events_delivered_total"));
        Assert.Equal(1, Value(scrape, "gateway_events_delivery_lag_milliseconds_count"));
        Assert.True(Value(scrape, "gateway_db_operation_duration_milliseconds_count", "writer=\"changes\"") >= 1);
        Assert.True(Value(scrape, "gateway_db_operation_duration_milliseconds_count", "writer=\"sessions\"") >= 1);
        Assert.Equal(1, Value(scrape, "gateway_hub_errors_total", "code=\"not_found\""));

        // Each node's series stay apart wherever several nodes' scrapes are gathered.
        var series = scrape.Split('\n').Where(l => l.StartsWith("gateway_", StringComparison.Ordinal)).ToList();
        Assert.NotEmpty(series);
        Assert.All(series, line => Assert.Contains("node=\"metrics-node\"", line, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Only_admins_may_scrape()
    {
        using var anonymous = _server.CreateHttpClient();
        using var dashboard = _server.CreateHttpClient(GatewayTestServer.Token("viewer", GatewayRoles.Dashboard));

        using var noToken = await anonymous.GetAsync(new Uri("/metrics", UriKind.Relative));
        using var notAdmin = await dashboard.GetAsync(new Uri("/metrics", UriKind.Relative));

        Assert.Equal(HttpStatusCode.Unauthorized, noToken.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, notAdmin.StatusCode);
    }
}
