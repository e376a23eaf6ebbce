namespace Gateway.Server.Hubs;

/// <summary>
/// A hub method only callers with one of these roles may invoke. Checked by <see cref="GatewayHubFilter"/>, which
/// answers with a <c>forbidden:</c> hub error (SignalR's own [Authorize] on methods answers with a text that has no
/// stable code).
/// </summary>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false)]
internal sealed class RequireRoleAttribute : Attribute
{
    public RequireRoleAttribute(params string[] roles)
    {
        Roles = roles;
    }

    public IReadOnlyList<string> Roles { get; }
}
