using System.Diagnostics;
using Gateway.Bench;

// bash bench/run.sh [--quick] builds Release and runs this with the repository root and the server core.
var options = BenchOptions.Parse(args);

// Pinned to one core the pool starts with one worker and grows by one every half second while work waits; thousands
// of connections' continuations must not queue behind that ramp.
ThreadPool.SetMinThreads(64, 64);
Directory.CreateDirectory(options.WorkDir);
var clock = Stopwatch.StartNew();
Console.Error.WriteLine($"work folder {options.WorkDir}; servers pinned to cpu {options.ServerCpus ?? "(none)"}; {(options.Quick ? "quick" : "full")} run");

var results = new BenchResults { Machine = MachineInfo.Read(), Quick = options.Quick, Connections = options.Connections, Subscribers = options.Subscribers };
var token = await HubTarget.MintTokenAsync(options);

if (options.Scenarios.Contains('a', StringComparison.Ordinal))
{
    Console.Error.WriteLine($"scenario a: {options.Subscribers} subscribers in {options.Groups} groups, rates {string.Join(", ", options.Rates)} changes/s, {options.StepSeconds} s each, Gateway and B1{(options.DurableBaseline ? " and B2" : "")} interleaved");
    await using var gateway = await HubTarget.StartGatewayAsync(options, "a-gateway", token);
    await using var bare = await HubTarget.StartBareHubAsync(options, "a-b1");
    await using var durable = options.DurableBaseline ? await HubTarget.StartDurableHubAsync(options, "a-b2") : null;
    results.Fanout = await FanoutScenario.RunAsync(options, durable is null ? [gateway, bare] : [gateway, bare, durable]);
}

if (options.Scenarios.Contains('b', StringComparison.Ordinal) || options.Scenarios.Contains('c', StringComparison.Ordinal))
{
    Console.Error.WriteLine($"scenarios c and b: {options.Connections} connections, {options.ConnectsInFlight} connects in flight; idle {options.IdleSeconds} s; heartbeats every {options.HeartbeatIntervalSeconds} s for {options.HeartbeatSeconds} s");
    var heartbeats = options.Scenarios.Contains('b', StringComparison.Ordinal);
    results.GatewayConnections = await ConnectionScenario.RunHubAsync(options, await HubTarget.StartGatewayAsync(options, "bc-gateway", token), heartbeats);
    results.BareHubConnections = await ConnectionScenario.RunHubAsync(options, await HubTarget.StartBareHubAsync(options, "bc-b1"), heartbeats);
    if (options.Scenarios.Contains('c', StringComparison.Ordinal))
    {
        // Only the ramp: what authenticating a connection costs B1 (c's connects/s and memory; bench/README.md).
        results.AuthenticatedHubConnections = await ConnectionScenario.RunHubAsync(
            options, await HubTarget.StartAuthenticatedHubAsync(options, "c-b1jwt", token), heartbeats: false);
    }

    var b0Url = new Uri($"http://127.0.0.1:{HubTarget.FreePort()}");
    var b0 = await ServerProcess.StartAsync(options, "c-b0", options.BaselinesDll, ["b0", "--urls", b0Url.ToString()], new Dictionary<string, string>(), b0Url, Path.Combine(options.WorkDir, "c-b0"));
    results.BareWebSocketRamp = await ConnectionScenario.RunWebSocketAsync(options, b0);
}

if (options.Scenarios.Contains('d', StringComparison.Ordinal))
{
    Console.Error.WriteLine(
        $"scenario d: {options.WriteRounds} rounds of {options.WriteConcurrency} status changes in flight for {options.WriteSeconds} s, then C with {options.WriteConcurrency} per transaction for as long");
    await using var gateway = await HubTarget.StartGatewayAsync(options, "d-gateway", token);
    (results.GatewayWrites, results.RawWrites) = await WriteScenario.RunInterleavedAsync(options, gateway);
}

if (options.Scenarios.Contains('f', StringComparison.Ordinal))
{
    Console.Error.WriteLine(
        $"scenario f: scenario d on PostgreSQL {options.Postgres}: Gateway, C and C+lock alternating, {options.WriteRounds} rounds of {options.WriteSeconds} s");
    results.PostgresWrites = await WriteScenario.RunPostgresAsync(options, token);
}

if (options.Scenarios.Contains('e', StringComparison.Ordinal))
{
    Console.Error.WriteLine(
        $"scenario e: nodes on one file; write ceiling with 1, 2, 3 nodes ({options.WriteConcurrency} changes in flight, {options.WriteSeconds} s each), then delivery at {options.ClusterRate} changes/s");
    results.Cluster = await ClusterScenario.RunAsync(options, token);
}

if (options.Scenarios.Contains('g', StringComparison.Ordinal))
{
    Console.Error.WriteLine(
        $"scenario g: scenario e on PostgreSQL {options.Postgres}: write ceiling with 1, 2, 3 nodes, then delivery at {options.ClusterRate} changes/s");
    var database = await HubTarget.CreatePostgresDatabaseAsync(options, "bench_g_" + Guid.NewGuid().ToString("N")[..8]);
    results.PostgresCluster = await ClusterScenario.RunAsync(options, token, database);
}

results.Seconds = clock.Elapsed.TotalSeconds;
var report = Report.Build(results);
Console.WriteLine(report.Table);
Directory.CreateDirectory(Path.GetDirectoryName(options.OutputPath)!);
await File.WriteAllTextAsync(options.OutputPath, report.Json);
Console.Error.WriteLine($"wrote {options.OutputPath} ({results.Seconds:0} s)");
try
{
    Directory.Delete(options.WorkDir, recursive: true);
}
catch (IOException)
{
    // Left for inspection.
}

return report.AllMet ? 0 : 3;
