using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Gateway.Testing;

namespace Gateway.Cluster.Tests;

/// <summary>
/// Gateway nodes in processes of their own on one PostgreSQL database, behind HAProxy with the configuration
/// <c>cluster/cluster.sh haproxy-config</c> prints (the one users run), all on loopback ports of one free block: the
/// balancer on the first, node <c>i</c> on the first + i, the balancer's statistics on the first + 9.
/// </summary>
public sealed class LocalCluster : IAsyncDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("gateway-cluster-").FullName;
    private readonly GatewayServerProcess?[] _nodes;
    private readonly string _databaseUrl;
    private Process? _balancer;

    private LocalCluster(string databaseUrl, int nodes, int basePort)
    {
        _databaseUrl = databaseUrl;
        _nodes = new GatewayServerProcess?[nodes];
        BasePort = basePort;
    }

    public int BasePort { get; }

    /// <summary>Where clients connect: the balancer.</summary>
    public Uri Address => new($"http://127.0.0.1:{BasePort}");

    public Uri NodeAddress(int node) => new($"http://127.0.0.1:{BasePort + node}");

    public static string NodeId(int node) => $"node-{node}";

    public bool IsRunning(int node) => _nodes[node - 1] is { HasExited: false };

    public bool BalancerRunning => _balancer is { HasExited: false };

    public int Nodes => _nodes.Length;

    public GatewayServerProcess Node(int node) => _nodes[node - 1] ?? throw new InvalidOperationException($"node-{node} is not running");

    /// <summary>Every node's output so far, for a failing assertion's message.</summary>
    public string Output => string.Join(
        "\n",
        _nodes.Select((node, i) => $"--- node-{i + 1}\n{node?.Output}").Append($"--- balancer\n{ReadBalancerLog()}"));

    /// <summary>Starts <paramref name="nodes"/> nodes on <paramref name="databaseUrl"/>, then the balancer; returns once every node is ready through it.</summary>
    public static async Task<LocalCluster> StartAsync(string databaseUrl, int nodes = 3)
    {
        var cluster = new LocalCluster(databaseUrl, nodes, FreePortBlock());
        try
        {
            // One node first: it applies the migrations; the others find them applied.
            await cluster.StartNodeAsync(1);
            await Task.WhenAll(Enumerable.Range(2, nodes - 1).Select(cluster.StartNodeAsync));
            await cluster.StartBalancerAsync();
            return cluster;
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }
    }

    public async Task StartNodeAsync(int node)
    {
        var environment = new Dictionary<string, string?>
        {
            ["DATABASE_URL"] = _databaseUrl,
            ["Node__Id"] = NodeId(node),
            ["Node__HeartbeatIntervalSeconds"] = "0.5",
            ["Node__LostAfterSeconds"] = "3",
            ["Auth__SigningKey"] = GatewayTestServer.SigningKey,
            ["Proxy__TrustedProxies__0"] = "127.0.0.1",
            ["RateLimits__WritesPerSecond"] = "0",
            ["RateLimits__ConnectsPerSecond"] = "0",
            ["Sessions__FlushIntervalSeconds"] = "0.5",
        };
        var process = await GatewayServerProcess.StartAsync(_directory, environment, "--urls", NodeAddress(node).ToString().TrimEnd('/'));
        _nodes[node - 1] = process;
        if (process.HasExited)
        {
            throw new InvalidOperationException($"node-{node} exited at start:\n{process.Output}");
        }

        await WaitReadyAsync(NodeAddress(node), TimeSpan.FromSeconds(60));
    }

    /// <summary>SIGTERM, as a service manager stops a node; returns once the process has exited.</summary>
    public async Task StopNodeAsync(int node)
    {
        var process = Node(node);
        await process.TerminateAsync();
        var exit = await process.WaitForExitAsync(TimeSpan.FromSeconds(60));
        Assert.True(exit == 0, $"node-{node} exited with {exit}:\n{process.Output}");
        await process.DisposeAsync();
        _nodes[node - 1] = null;
    }

    /// <summary>SIGKILL, as a crash: the node says nothing to anyone.</summary>
    public async Task KillNodeAsync(int node)
    {
        await Node(node).DisposeAsync();
        _nodes[node - 1] = null;
    }

    /// <summary>SIGSTOP, as a node that stalls (paused, swapped out): its sockets stay open and nothing answers.</summary>
    public Task PauseNodeAsync(int node) => Node(node).SignalAsync("STOP");

    public Task ResumeNodeAsync(int node) => Node(node).SignalAsync("CONT");

    public async Task StartBalancerAsync()
    {
        var config = Path.Combine(_directory, "haproxy.cfg");
        var rendered = await RunScriptAsync("haproxy-config");
        await File.WriteAllTextAsync(config, rendered);
        var info = new ProcessStartInfo("haproxy") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in new[] { "-f", config, "-db" })
        {
            info.ArgumentList.Add(arg);
        }

        foreach (var (key, value) in ScriptEnvironment())
        {
            info.Environment[key] = value;
        }

        _balancer = Process.Start(info)!;
        var log = File.CreateText(Path.Combine(_directory, "haproxy.log"));
        log.AutoFlush = true;
        _balancer.OutputDataReceived += (_, e) => Write(log, e.Data);
        _balancer.ErrorDataReceived += (_, e) => Write(log, e.Data);
        _balancer.BeginOutputReadLine();
        _balancer.BeginErrorReadLine();
        await WaitReadyAsync(Address, TimeSpan.FromSeconds(20));
    }

    public async Task StopBalancerAsync()
    {
        if (_balancer is { HasExited: false } balancer)
        {
            balancer.Kill();
            await balancer.WaitForExitAsync();
        }

        _balancer?.Dispose();
        _balancer = null;
    }

    /// <summary>Waits until <paramref name="address"/> answers /health/ready with 200.</summary>
    public static async Task WaitReadyAsync(Uri address, TimeSpan timeout)
    {
        using var http = new HttpClient { BaseAddress = address, Timeout = TimeSpan.FromSeconds(5) };
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            try
            {
                using var response = await http.GetAsync(new Uri("/health/ready", UriKind.Relative));
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    return;
                }
            }
            catch (Exception exception) when (exception is HttpRequestException or TaskCanceledException)
            {
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"{address} not ready within {timeout}");
            }

            await Task.Delay(100);
        }
    }

    /// <summary>Runs <c>cluster/cluster.sh</c> with this cluster's ports and directory.</summary>
    public Task<string> RunScriptAsync(params string[] args) => RunClusterScriptAsync(ScriptEnvironment(), args);

    public static async Task<string> RunClusterScriptAsync(IReadOnlyDictionary<string, string> environment, params string[] args)
    {
        var info = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add(Path.Combine(RepositoryPaths.Root, "cluster", "cluster.sh"));
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        info.Environment.Remove("DATABASE_URL");
        foreach (var (key, value) in environment)
        {
            info.Environment[key] = value;
        }

        using var process = Process.Start(info)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        await process.WaitForExitAsync(timeout.Token);
        Assert.True(process.ExitCode == 0, $"cluster.sh {string.Join(' ', args)} exited {process.ExitCode}:\n{await output}\n{await error}");
        return await output;
    }

    private Dictionary<string, string> ScriptEnvironment() => new()
    {
        ["GATEWAY_CLUSTER_DIR"] = _directory,
        ["GATEWAY_CLUSTER_NODES"] = _nodes.Length.ToString(CultureInfo.InvariantCulture),
        ["GATEWAY_CLUSTER_PORT"] = BasePort.ToString(CultureInfo.InvariantCulture),
        ["GATEWAY_CLUSTER_BIND"] = $"127.0.0.1:{BasePort}",
        ["GATEWAY_CLUSTER_STATS_BIND"] = $"127.0.0.1:{BasePort + 9}",
    };

    /// <summary>A block of ten free loopback ports (the cluster's layout), from a random start.</summary>
    public static int FreePortBlock()
    {
        for (var attempt = 0; attempt < 200; attempt++)
        {
            var start = Random.Shared.Next(20000, 60000);
            if (Enumerable.Range(start, 10).All(IsFree))
            {
                return start;
            }
        }

        throw new InvalidOperationException("no block of ten free loopback ports");
    }

    private static bool IsFree(int port)
    {
        try
        {
            using var listener = new TcpListener(IPAddress.Loopback, port);
            listener.Start();
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    private static void Write(StreamWriter log, string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (log)
        {
            log.WriteLine(line);
        }
    }

    private string ReadBalancerLog()
    {
        try
        {
            using var stream = new FileStream(Path.Combine(_directory, "haproxy.log"), FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
            return new StreamReader(stream).ReadToEnd();
        }
        catch (IOException)
        {
            return string.Empty;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopBalancerAsync();
        foreach (var node in _nodes)
        {
            if (node is not null)
            {
                await node.DisposeAsync();
            }
        }

        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
