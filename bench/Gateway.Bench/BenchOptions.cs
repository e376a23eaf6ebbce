using System.Globalization;

namespace Gateway.Bench;

/// <summary>What to run and where things are; <c>--quick</c> shrinks every scenario to a smoke run.</summary>
internal sealed class BenchOptions
{
    public required string RepoRoot { get; init; }

    public required string GatewayDll { get; init; }

    public required string BaselinesDll { get; init; }

    public required string ProbeDll { get; init; }

    public required string WorkDir { get; init; }

    public required string OutputPath { get; init; }

    /// <summary>The cpu list servers are pinned to (taskset -c), or null to leave them unpinned.</summary>
    public string? ServerCpus { get; init; }

    /// <summary>A PostgreSQL server's URL (sqlx's form, its maintenance database): scenario f runs scenario d there, in databases of its own.</summary>
    public string? Postgres { get; init; }

    public bool Quick { get; init; }

    public string Scenarios { get; init; } = "abcde";

    /// <summary>Connections of scenarios b and c.</summary>
    public int Connections { get; init; }

    /// <summary>Subscribers of scenario a (spread over <see cref="Groups"/> groups).</summary>
    public int Subscribers { get; init; }

    public int Groups { get; init; } = 10;

    public required int[] Rates { get; init; }

    public double StepSeconds { get; init; }

    /// <summary>Scenario a: steps that halve the gap between each side's highest passing rate and its first failing one.</summary>
    public int RefineSteps { get; init; }

    public double IdleSeconds { get; init; }

    public double HeartbeatSeconds { get; init; }

    public double HeartbeatIntervalSeconds { get; init; } = 5;

    public double WriteSeconds { get; init; }

    /// <summary>Scenario d's windows per side, Gateway and C alternating.</summary>
    public int WriteRounds { get; init; }

    public int WriteConcurrency { get; init; } = 32;

    /// <summary>Scenario e's paced rate for the delivery latency across nodes, changes per second (the aim: 500).</summary>
    public int ClusterRate { get; init; } = 500;

    public int ConnectsInFlight { get; init; } = 64;

    /// <summary>Seconds to keep the connections of scenario c open after measuring (to inspect the server).</summary>
    public int HoldSeconds { get; init; }

    /// <summary>Scenario a also runs B2 (B1 with a durable write per change): what persistence alone costs. Off by default: a third side adds 25 to 55 s to a full run, which then passes 5 minutes.</summary>
    public bool DurableBaseline { get; init; }

    public string SigningKey { get; } = Convert.ToHexString(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32));

    public static BenchOptions Parse(string[] args)
    {
        string? Value(string name) => args.SkipWhile(a => a != name).Skip(1).FirstOrDefault();
        int? Number(string name) => Value(name) is { } text ? int.Parse(text, CultureInfo.InvariantCulture) : null;

        var quick = args.Contains("--quick");
        var repo = Path.GetFullPath(Value("--repo") ?? Directory.GetCurrentDirectory());
        var configuration = Value("--configuration") ?? "Release";
        string Output(string project, string folder) => Path.Combine(repo, folder, project, "bin", configuration, "net10.0", project + ".dll");
        return new BenchOptions
        {
            RepoRoot = repo,
            GatewayDll = Value("--gateway-dll") ?? Output("Gateway.Server", "src"),
            BaselinesDll = Output("Gateway.Bench.Baselines", "bench"),
            ProbeDll = Output("Gateway.Bench.Probe", "bench"),
            WorkDir = Value("--work") ?? Path.Combine(Path.GetTempPath(), "gateway-bench-" + Environment.ProcessId.ToString(CultureInfo.InvariantCulture)),
            OutputPath = Value("--out") ?? Path.Combine(repo, "bench", "results", "latest.json"),
            ServerCpus = Value("--server-cpus"),
            Postgres = Value("--postgres"),
            Quick = quick,
            Scenarios = Value("--scenarios") ?? "abcde",
            ClusterRate = Number("--cluster-rate") ?? 500,
            Connections = Number("--connections") ?? (quick ? 500 : 5000),
            Subscribers = Number("--subscribers") ?? (quick ? 200 : 1000),
            Rates = Value("--rates")?.Split(',').Select(r => int.Parse(r, CultureInfo.InvariantCulture)).ToArray()
                ?? (quick ? [25, 100, 400] : [50, 100, 200, 300, 400, 600, 800, 1600]),
            StepSeconds = Number("--step-seconds") ?? (quick ? 1.5 : 4),
            RefineSteps = Number("--refine") ?? (quick ? 1 : 2),
            IdleSeconds = Number("--idle-seconds") ?? (quick ? 2 : 5),
            HeartbeatSeconds = quick ? 5 : 10,
            HoldSeconds = Number("--hold-seconds") ?? 0,
            WriteSeconds = Number("--write-seconds") ?? (quick ? 2 : 5),
            WriteRounds = Number("--write-rounds") ?? (quick ? 1 : 3),
            DurableBaseline = args.Contains("--b2"),
        };
    }
}
