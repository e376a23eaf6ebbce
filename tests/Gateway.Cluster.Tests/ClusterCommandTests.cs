using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Gateway.Client;
using Gateway.Contracts;
using Gateway.Testing;
using Microsoft.AspNetCore.Http.Connections;

namespace Gateway.Cluster.Tests;

/// <summary>
/// <c>cluster/cluster.sh start</c> as the README runs it (its own PostgreSQL, three nodes, HAProxy), with the tests'
/// build of the gateway instead of a Release publish; <c>stop</c> leaves nothing running.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class ClusterCommandTests
{
    [Fact]
    public async Task Start_serves_every_transport_and_the_dashboard_through_the_balancer_and_stop_leaves_nothing_running()
    {
        var directory = Directory.CreateTempSubdirectory("gateway-cluster-command-").FullName;
        // The cluster's PostgreSQL runs as the postgres user, which must reach its folder.
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute
                | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
        }
        var port = LocalCluster.FreePortBlock();
        var environment = new Dictionary<string, string>
        {
            ["GATEWAY_CLUSTER_DIR"] = directory,
            ["GATEWAY_CLUSTER_PORT"] = port.ToString(CultureInfo.InvariantCulture),
            ["GATEWAY_CLUSTER_PG_PORT"] = (port + 8).ToString(CultureInfo.InvariantCulture),
            ["GATEWAY_CLUSTER_APP"] = GatewayExecutable.DllPath,
        };
        var pids = new List<int>();
        try
        {
            var started = await LocalCluster.RunClusterScriptAsync(environment, "start");
            var address = new Uri(started.Trim());
            Assert.Equal(new Uri($"http://127.0.0.1:{port}"), address);
            pids.AddRange(Directory.GetFiles(directory, "*.pid").Select(f => int.Parse(File.ReadAllText(f).Trim(), CultureInfo.InvariantCulture)));
            Assert.Equal(4, pids.Count); // three nodes and the balancer

            var token = (await LocalCluster.RunClusterScriptAsync(environment, "token", "--user", "me", "--role", "admin")).Trim();
            var nodes = new HashSet<string>();
            foreach (var transport in new[] { HttpTransportType.WebSockets, HttpTransportType.ServerSentEvents, HttpTransportType.LongPolling })
            {
                // Several clients per transport, so that they are spread over the nodes: SSE and long polling break
                // at once if a request of theirs reaches another node than their negotiate.
                for (var i = 0; i < 3; i++)
                {
                    await using var client = new GatewayClient(new GatewayClientOptions { Url = address, AccessToken = token, Transports = transport });
                    await client.StartAsync();
                    var subscription = await client.SubscribeAsync(new SubscriptionRequest(SubscriptionScopes.All), onEvent: _ => Task.CompletedTask);
                    Assert.NotNull(await client.CreateTask(new CreateTaskCommand($"through the balancer over {transport}", "cluster")));
                    nodes.Add(client.NodeId!);
                    await client.UnsubscribeAsync(subscription);
                }
            }

            Assert.Equal(3, nodes.Count);

            using var http = new HttpClient { BaseAddress = address };
            using var dashboard = await http.GetAsync(new Uri("/", UriKind.Relative));
            Assert.Equal(HttpStatusCode.OK, dashboard.StatusCode);
            Assert.Contains("text/html", dashboard.Content.Headers.ContentType?.ToString(), StringComparison.Ordinal);

            var status = await LocalCluster.RunClusterScriptAsync(environment, "status");
            Assert.Equal(3, status.Split('\n').Count(line => line.Contains("readiness 200", StringComparison.Ordinal)));
        }
        finally
        {
            await LocalCluster.RunClusterScriptAsync(environment, "stop", "--purge");
        }

        Assert.All(pids, pid => Assert.False(IsRunning(pid), $"process {pid} still runs after stop"));
        Assert.All(Enumerable.Range(port, 10), p => Assert.False(Listening(p), $"port {p} still listens after stop"));
        Assert.False(Directory.Exists(directory));
    }

    private static bool IsRunning(int pid)
    {
        try
        {
            using var process = Process.GetProcessById(pid);
            return !process.HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }

    private static bool Listening(int port)
    {
        try
        {
            using var client = new TcpClient();
            client.Connect(IPAddress.Loopback, port);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}
