using Microsoft.AspNetCore.SignalR;

namespace Gateway.Server.Hubs;

/// <summary>The user id of a connection is the token's <c>sub</c> claim (inbound claim mapping is off).</summary>
internal sealed class SubjectUserIdProvider : IUserIdProvider
{
    public string? GetUserId(HubConnectionContext connection) =>
        connection.User.FindFirst("sub")?.Value ?? connection.User.Identity?.Name;
}
