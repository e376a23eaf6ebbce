using System.Data.Common;
using Gateway.Contracts;

namespace Gateway.Server.Sessions;

/// <summary>
/// Where session rows live. The session writer is its only user on a node: it holds one connection and commits
/// opens, closes and heartbeats in batches, one transaction each. The contract every implementation keeps:
/// <list type="bullet">
/// <item>A session closes once: every close (one session, a node's sweep, the reaper) applies only to an active row,
/// sets <c>is_active</c> off, <c>updated_at</c> and the metadata's <c>closeReason</c>, <c>closedAt</c> and
/// <c>closeMessage</c>, and keeps the rest of the metadata; a row whose metadata some other writer left invalid
/// still closes, its metadata replaced by the close.</item>
/// <item>A heartbeat only moves <c>last_heartbeat</c> forward, and only on an active row.</item>
/// <item>The per-user limit of <see cref="SessionRow.MaxUserSessions"/> counts the user's active sessions on the
/// nodes beaten since <c>liveSince</c> (the registry), and is checked and the row inserted atomically across every
/// writer of every node: two nodes opening a user's last allowed session at once insert one.</item>
/// <item>A session belongs to the node its metadata's <c>nodeId</c> names; a row with invalid metadata to none.</item>
/// <item>Nothing of a transaction disposed without <see cref="ISessionTransaction.CommitAsync"/> is visible.</item>
/// </list>
/// The specification every implementation must pass is <c>SessionStoreSpecification</c> in the server's tests.
/// </summary>
internal interface ISessionStore
{
    /// <summary>A connection for the writer, tuned for its batches.</summary>
    Task<ISessionStoreConnection> ConnectAsync(CancellationToken cancellationToken);

    /// <summary>Active sessions per node id (rows naming no node left out), for the registry's view.</summary>
    Task<Dictionary<string, long>> ActiveByNodeAsync(CancellationToken cancellationToken);
}

internal interface ISessionStoreConnection : IAsyncDisposable
{
    Task<ISessionTransaction> BeginAsync(CancellationToken cancellationToken);
}

/// <summary>One batch of the writer: everything in it commits or nothing does.</summary>
internal interface ISessionTransaction : IAsyncDisposable
{
    /// <summary>The open connection and transaction, for other stores' work in the same batch (signals, the registry).</summary>
    DbConnection Connection { get; }

    DbTransaction Transaction { get; }

    /// <summary>Moves an active session's heartbeat forward to <paramref name="at"/>; 1 if it moved, else 0.</summary>
    Task<int> HeartbeatAsync(string sessionId, DateTime at, CancellationToken cancellationToken);

    /// <summary>Inserts a session. False: not inserted, the user already has <see cref="SessionRow.MaxUserSessions"/> active sessions on the nodes beaten since <paramref name="liveSince"/>.</summary>
    Task<bool> OpenAsync(SessionRow row, DateTime liveSince, CancellationToken cancellationToken);

    /// <summary>Closes one active session; false if it was not active (already closed, or unknown).</summary>
    /// <param name="message">Kept as <c>closeMessage</c>; null for none.</param>
    Task<bool> CloseAsync(string sessionId, string reason, string? message, DateTime at, CancellationToken cancellationToken);

    /// <summary>Closes every active session of one node; returns what was closed, for the announcements.</summary>
    Task<List<SessionInfo>> CloseNodeAsync(string nodeId, string reason, DateTime at, CancellationToken cancellationToken);

    /// <summary>
    /// Closes (<see cref="CloseReasons.Stale"/>) the active sessions whose heartbeat is older than <paramref name="cutoff"/>,
    /// except those <paramref name="keep"/> spares (a heartbeat received but not yet written); returns what was closed.
    /// </summary>
    Task<List<SessionInfo>> ReapAsync(DateTime cutoff, Func<string, bool> keep, DateTime at, CancellationToken cancellationToken);

    /// <summary>Deletes at most <paramref name="chunk"/> inactive sessions last updated before <paramref name="cutoff"/>; returns how many.</summary>
    Task<int> PruneAsync(DateTime cutoff, int chunk, CancellationToken cancellationToken);

    Task CommitAsync(CancellationToken cancellationToken);
}
