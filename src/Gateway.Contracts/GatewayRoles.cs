namespace Gateway.Contracts;

/// <summary>Roles carried by a token's role claim.</summary>
public static class GatewayRoles
{
    /// <summary>Everything, including session management and configuration secrets.</summary>
    public const string Admin = "admin";

    /// <summary>Reads and subscribes.</summary>
    public const string Dashboard = "dashboard";

    /// <summary>An orchestrator agent or client: may publish changes of its own tasks.</summary>
    public const string Agent = "agent";

    public static readonly IReadOnlyList<string> All = [Admin, Dashboard, Agent];
}
