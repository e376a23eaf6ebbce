using System.Net;
using Gateway.Testing;

namespace Gateway.Cluster.Tests;

/// <summary>Waits and checks the cluster's fault tests share.</summary>
public static class ClusterChecks
{
    /// <summary>Once the sessions are flushed, the active ones are the subscribers' connections: none left behind by the fault.</summary>
    public static Task AssertSessionsMatchAsync(ITestDatabase database, Workload load, LocalCluster cluster) =>
        WaitAsync(
            () => Task.FromResult(database.QueryLong("SELECT count(*) FROM sessions WHERE is_active::int = 1") == load.Subscribers.Count),
            TimeSpan.FromSeconds(15),
            $"{load.Subscribers.Count} active sessions, one per subscriber, got {database.QueryLong("SELECT count(*) FROM sessions WHERE is_active::int = 1")}\n{cluster.Output}");

    public static async Task<bool> ReadyAsync(Uri node)
    {
        using var http = new HttpClient { BaseAddress = node, Timeout = TimeSpan.FromSeconds(5) };
        try
        {
            using var response = await http.GetAsync(new Uri("/health/ready", UriKind.Relative));
            return response.StatusCode == HttpStatusCode.OK;
        }
        catch (Exception exception) when (exception is HttpRequestException or TaskCanceledException)
        {
            return false;
        }
    }

    public static async Task WaitAsync(Func<Task<bool>> condition, TimeSpan timeout, string what)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"{what}: not within {timeout}");
            }

            await Task.Delay(100);
        }
    }
}
