using Gateway.Server.Sessions;
using Microsoft.AspNetCore.SignalR;

namespace Gateway.Server.Hubs;

/// <summary>
/// What the gateway keeps on a connection: the connection itself (its protocol, and the target event streams write
/// shared pre-serialised messages to) and its live session. They live in the connection's feature collection, not
/// its <c>Items</c>: the first use of <c>Items</c> creates a concurrent dictionary per connection (about half a
/// kilobyte of heap each in scenario c of the benchmarks), while the features already have a dictionary.
/// </summary>
internal static class ConnectionFeatures
{
    public static void Attach(HubConnectionContext connection) => connection.Features.Set(connection);

    /// <summary>The connection, once the lifetime manager saw it connect (<see cref="ProtocolCapturingHubLifetimeManager{THub}"/>).</summary>
    public static HubConnectionContext? HubConnection(this HubCallerContext context) => context.Features.Get<HubConnectionContext>();

    public static void SetLiveConnection(this HubCallerContext context, LiveConnection connection) => context.Features.Set(connection);

    /// <summary>The connection's session, once opened.</summary>
    public static LiveConnection? LiveConnection(this HubCallerContext context) => context.Features.Get<LiveConnection>();
}
