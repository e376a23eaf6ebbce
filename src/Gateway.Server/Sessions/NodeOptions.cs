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

    public string ResolvedId => string.IsNullOrWhiteSpace(Id) ? Environment.MachineName : Id;
}
