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

    public string ResolvedId => string.IsNullOrWhiteSpace(Id) ? Environment.MachineName : Id;

    public TimeSpan ShutdownTimeout => TimeSpan.FromSeconds(ShutdownTimeoutSeconds);
}

/// <summary>Refuses a shutdown timeout that could not even tell clients before aborting them.</summary>
internal sealed class NodeOptionsValidator : IValidateOptions<NodeOptions>
{
    public ValidateOptionsResult Validate(string? name, NodeOptions options) =>
        options.ShutdownTimeoutSeconds is > 0 and <= 3600
            ? ValidateOptionsResult.Success
            : ValidateOptionsResult.Fail($"Node: ShutdownTimeoutSeconds ({options.ShutdownTimeoutSeconds}) must be between 0 and 3600 seconds, e.g. 15");
}
