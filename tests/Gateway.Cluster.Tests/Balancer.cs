using System.Globalization;

namespace Gateway.Cluster.Tests;

/// <summary>What HAProxy thinks of the nodes, from its statistics page (CSV).</summary>
public static class Balancer
{
    /// <summary>The status (UP, DOWN, ...) of node <paramref name="node"/> in the hub backend.</summary>
    public static async Task<string> StatusAsync(LocalCluster cluster, int node)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        var csv = await http.GetStringAsync(new Uri($"http://127.0.0.1:{cluster.BasePort + 9}/;csv"));
        var header = csv.Split('\n')[0].TrimStart('#', ' ').Split(',');
        var status = Array.IndexOf(header, "status");
        var row = csv.Split('\n').Select(line => line.Split(','))
            .FirstOrDefault(fields => fields.Length > status && fields[0] == "hubs" && fields[1] == LocalCluster.NodeId(node));
        return row?[status] ?? "absent";
    }

    public static async Task WaitForAsync(LocalCluster cluster, int node, string status, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        string seen;
        while ((seen = await StatusAsync(cluster, node)) != status)
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException(string.Create(CultureInfo.InvariantCulture, $"node-{node} is {seen} at the balancer, not {status}, after {timeout}"));
            }

            await Task.Delay(100);
        }
    }
}
