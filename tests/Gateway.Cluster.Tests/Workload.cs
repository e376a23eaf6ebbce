using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using Gateway.Client;
using Gateway.Contracts;
using Gateway.Testing;
using Microsoft.AspNetCore.Http.Connections;

namespace Gateway.Cluster.Tests;

/// <summary>A subscriber through the balancer: every event id it was handed, and every node it was on.</summary>
public sealed class Subscriber(GatewayClient client, HttpTransportType transport) : IAsyncDisposable
{
    public GatewayClient Client { get; } = client;

    public HttpTransportType Transport { get; } = transport;

    public ConcurrentQueue<long> Received { get; } = new();

    public ConcurrentQueue<string> Nodes { get; } = new();

    private int _reconnects;

    public int Reconnects => Volatile.Read(ref _reconnects);

    internal void Reconnected() => Interlocked.Increment(ref _reconnects);

    public long Last => Received.LastOrDefault();

    public ValueTask DisposeAsync() => Client.DisposeAsync();
}

/// <summary>
/// Clients through the balancer while the cluster is made to fail: subscribers on every transport, and a writer
/// creating tasks with ids of its own, sending a create again with the same id until it is answered (201, or 409: it
/// was committed by an attempt whose answer was lost), as protocol.md tells clients to.
/// </summary>
public sealed class Workload : IAsyncDisposable
{
    private readonly Uri _address;
    private readonly CancellationTokenSource _stop = new();
    private Task? _writing;

    private Workload(Uri address) => _address = address;

    public List<Subscriber> Subscribers { get; } = [];

    /// <summary>Task ids whose create was acknowledged.</summary>
    public ConcurrentQueue<string> Acknowledged { get; } = new();

    /// <summary>Answers no fault explains.</summary>
    public ConcurrentQueue<string> Unexpected { get; } = new();

    private int _failedAttempts;

    /// <summary>Attempts that failed (a node gone, 503) and were sent again.</summary>
    public int FailedAttempts => Volatile.Read(ref _failedAttempts);

    /// <summary>The longest time one create took, retries included.</summary>
    public TimeSpan LongestCreate { get; private set; }

    public static async Task<Workload> StartAsync(Uri address, int subscribersPerTransport = 2)
    {
        var workload = new Workload(address);
        foreach (var transport in new[] { HttpTransportType.WebSockets, HttpTransportType.ServerSentEvents, HttpTransportType.LongPolling })
        {
            for (var i = 0; i < subscribersPerTransport; i++)
            {
                workload.Subscribers.Add(await SubscribeAsync(address, transport));
            }
        }

        workload._writing = workload.WriteAsync(workload._stop.Token);
        return workload;
    }

    private static async Task<Subscriber> SubscribeAsync(Uri address, HttpTransportType transport)
    {
        var client = new GatewayClient(new GatewayClientOptions
        {
            Url = address,
            AccessToken = GatewayTestServer.Token("watcher", GatewayRoles.Admin),
            Transports = transport,
            // After an outage of the whole cluster, back within a second of it rather than the default's 30 s at most.
            ReconnectPolicy = new GatewayReconnectPolicy { MaxDelay = TimeSpan.FromSeconds(1) },
        });
        var subscriber = new Subscriber(client, transport);
        client.Reconnected += _ =>
        {
            subscriber.Reconnected();
            subscriber.Nodes.Enqueue(client.NodeId ?? "?");
            return Task.CompletedTask;
        };
        await client.StartAsync();
        subscriber.Nodes.Enqueue(client.NodeId ?? "?");
        await client.SubscribeAsync(
            new SubscriptionRequest(SubscriptionScopes.All),
            onEvent: e =>
            {
                subscriber.Received.Enqueue(e.Id);
                return Task.CompletedTask;
            });
        return subscriber;
    }

    private async Task WriteAsync(CancellationToken stop)
    {
        using var http = new HttpClient { BaseAddress = _address, Timeout = TimeSpan.FromSeconds(10) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", GatewayTestServer.Token("agent-1", GatewayRoles.Agent));
        while (!stop.IsCancellationRequested)
        {
            var id = Guid.NewGuid().ToString();
            var started = Stopwatch.StartNew();
            while (true)
            {
                try
                {
                    using var response = await http.PostAsJsonAsync(new Uri("/api/tasks", UriKind.Relative), new { id, title = "load", taskType = "cluster" }, CancellationToken.None);
                    if (response.StatusCode is HttpStatusCode.Created or HttpStatusCode.Conflict)
                    {
                        Acknowledged.Enqueue(id);
                        break;
                    }

                    // 503 from a node that does not serve; 502 or 504 from the balancer whose node stalled or went away.
                    // Anything else is kept for the final assertion, which shows the nodes' logs with it.
                    if (response.StatusCode is not (HttpStatusCode.ServiceUnavailable or HttpStatusCode.BadGateway or HttpStatusCode.GatewayTimeout))
                    {
                        Unexpected.Enqueue($"create {id} answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync(CancellationToken.None)}");
                    }
                }
                catch (Exception exception) when (exception is HttpRequestException or TaskCanceledException)
                {
                }

                Interlocked.Increment(ref _failedAttempts);
                await Task.Delay(100, CancellationToken.None);
            }

            if (started.Elapsed > LongestCreate)
            {
                LongestCreate = started.Elapsed;
            }

            try
            {
                await Task.Delay(25, stop);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    /// <summary>Returns once <paramref name="more"/> changes more than now are acknowledged.</summary>
    public async Task WaitForAcknowledgedAsync(int more, TimeSpan? timeout = null)
    {
        var target = Acknowledged.Count + more;
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(30));
        while (Acknowledged.Count < target)
        {
            Assert.True(DateTime.UtcNow < deadline, $"{more} changes not acknowledged within {timeout ?? TimeSpan.FromSeconds(30)}: {Acknowledged.Count} of {target}");
            await Task.Delay(50);
        }
    }

    /// <summary>Stops writing; returns once the last create is answered.</summary>
    public async Task StopWritingAsync()
    {
        await _stop.CancelAsync();
        await _writing!;
    }

    /// <summary>
    /// Once every subscriber has the log's head: each was handed every event of the log from its first one, once and
    /// in order, and every acknowledged change is in the database once, with its events.
    /// </summary>
    public async Task AssertNothingLostOrRepeatedAsync(ITestDatabase database, string context)
    {
        Assert.True(Unexpected.IsEmpty, $"{string.Join("\n", Unexpected)}\n{context}");
        var head = database.QueryLong("SELECT COALESCE(max(id), 0) FROM gateway_events");
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (Subscribers.Any(s => s.Last < head) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(100);
        }

        foreach (var subscriber in Subscribers)
        {
            var received = subscriber.Received.ToList();
            Assert.True(received.Count > 0, $"{subscriber.Transport} subscriber received nothing\n{context}");
            var logged = database.QueryLongs($"SELECT id FROM gateway_events WHERE id >= {received[0]} AND id <= {head} ORDER BY id");
            var repeated = received.GroupBy(id => id).Where(g => g.Count() > 1).Select(g => g.Key).ToList();
            var missing = logged.Except(received).ToList();
            Assert.True(
                repeated.Count == 0 && missing.Count == 0 && received.SequenceEqual(logged),
                $"{subscriber.Transport} subscriber (nodes {string.Join(" ", subscriber.Nodes)}): {received.Count} events, "
                + $"{missing.Count} missing (first {string.Join(",", missing.Take(5))}), {repeated.Count} repeated (first {string.Join(",", repeated.Take(5))})\n{context}");
        }

        var acknowledged = Acknowledged.ToList();
        Assert.NotEmpty(acknowledged);
        var ids = string.Join(",", acknowledged.Select(id => $"'{id}'"));
        Assert.Equal(acknowledged.Count, database.QueryLong($"SELECT count(*) FROM tasks WHERE id IN ({ids})"));
        Assert.Equal(acknowledged.Count, database.QueryLong($"SELECT count(DISTINCT task_id) FROM gateway_events WHERE task_id IN ({ids})"));
    }

    public async ValueTask DisposeAsync()
    {
        if (!_stop.IsCancellationRequested)
        {
            await StopWritingAsync();
        }

        foreach (var subscriber in Subscribers)
        {
            await subscriber.DisposeAsync();
        }

        _stop.Dispose();
    }
}
