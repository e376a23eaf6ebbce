using Microsoft.Extensions.Options;

namespace Gateway.Server.Sessions;

/// <summary>This gateway node. Bound from the "Node" section.</summary>
public sealed class NodeOptions
{
    public const string SectionName = "Node";

    /// <summary>
    /// Stable across restarts of this node: at start the node closes the sessions an earlier run left active under
    /// this id. Several nodes on one database need distinct ids. Empty: the machine name.
    /// </summary>
    public string Id { get; set; } = string.Empty;

    /// <summary>
    /// How long a graceful stop (SIGTERM, Ctrl+C) may take: clients are told to reconnect elsewhere, open
    /// connections get this long to finish, then they are aborted; the node's sessions are closed in the database
    /// either way and the process exits.
    /// </summary>
    public double ShutdownTimeoutSeconds { get; set; } = 15;

    /// <summary>How often the node beats its row in the node registry (<c>gateway_nodes</c>) and looks for lost peers.</summary>
    public double HeartbeatIntervalSeconds { get; set; } = 2;

    /// <summary>
    /// A node whose registry row was not beaten for this long is lost: a live peer closes its active sessions
    /// (<c>node_lost</c>) and announces them, and its sessions stop counting toward the per-user limit. At least three
    /// heartbeat intervals, so that one slow beat does not lose a node.
    /// </summary>
    public double LostAfterSeconds { get; set; } = 10;

    /// <summary>Where this node is reached, as shown in the registry; empty: the first address the server listens on.</summary>
    public string Address { get; set; } = string.Empty;

    public TimeSpan HeartbeatInterval => TimeSpan.FromSeconds(HeartbeatIntervalSeconds);

    public TimeSpan LostAfter => TimeSpan.FromSeconds(LostAfterSeconds);

    public string ResolvedId => string.IsNullOrWhiteSpace(Id) ? Environment.MachineName : Id;

    public TimeSpan ShutdownTimeout => TimeSpan.FromSeconds(ShutdownTimeoutSeconds);
}

/// <summary>Refuses a shutdown timeout that could not even tell clients before aborting them.</summary>
internal sealed class NodeOptionsValidator : IValidateOptions<NodeOptions>
{
    public ValidateOptionsResult Validate(string? name, NodeOptions options)
    {
        var failures = new List<string>();
        if (options.ShutdownTimeoutSeconds is not (> 0 and <= 3600))
        {
            failures.Add($"Node: ShutdownTimeoutSeconds ({options.ShutdownTimeoutSeconds}) must be between 0 and 3600 seconds, e.g. 15");
        }

        if (options.HeartbeatIntervalSeconds is not (>= 0.05 and <= 60))
        {
            failures.Add($"Node: HeartbeatIntervalSeconds ({options.HeartbeatIntervalSeconds}) must be between 0.05 and 60 seconds, e.g. 2");
        }

        if (!(options.LostAfterSeconds >= 3 * options.HeartbeatIntervalSeconds && options.LostAfterSeconds <= 3600))
        {
            failures.Add($"Node: LostAfterSeconds ({options.LostAfterSeconds}) must be at least three heartbeat intervals ({3 * options.HeartbeatIntervalSeconds} s) and at most 3600, e.g. 10");
        }

        if (options.Id.Length > 128 || options.Id.Any(char.IsControl))
        {
            failures.Add("Node: Id must be at most 128 printable characters");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
