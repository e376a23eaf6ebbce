using Gateway.Data;
using Gateway.Data.Entities;

namespace Gateway.Server.Events;

/// <summary>
/// The shared event log every node appends to and tails. Its contract, which delivery and resume rest on:
/// <list type="bullet">
/// <item>Ids strictly increase in commit order across all writers of all nodes: once a reader has seen id X, no commit
/// can later make an id below X visible. (SQLite: ids are taken and commits made under its single write lock.
/// PostgreSQL: every appending transaction takes one advisory lock in <see cref="BeginAppendsAsync"/> and holds it to
/// its commit, so ids are taken and commits finish one transaction at a time.)</item>
/// <item>An appended event is visible exactly when the change it belongs to is: it is added to the change's unit of
/// work and committed in the same transaction.</item>
/// <item>Every event with an id above <see cref="EventLogState.RetentionFloor"/> is in the log: pruning deletes a
/// prefix of ids and raises the floor in the same transaction.</item>
/// <item><see cref="EventLogState.Epoch"/> is fixed for the life of the database and differs between databases.</item>
/// </list>
/// The specification every implementation must pass is <c>EventLogSpecification</c> in the server's tests.
/// </summary>
internal interface IEventLog
{
    /// <summary>
    /// Called first in every transaction that may append, before any id is taken; what it takes is held to the end of
    /// the transaction. Appends from all writers of all nodes serialise here. Returns the transaction's id where the
    /// database can later say whether it committed (PostgreSQL's <c>pg_current_xact_id()</c>, for a commit whose
    /// answer was lost with the connection); null where a commit's outcome is never in doubt (SQLite's is local).
    /// </summary>
    Task<long?> BeginAppendsAsync(GatewayDbContext change, CancellationToken cancellationToken);

    /// <summary>Adds an event to a change's unit of work; it gets its id when that commits.</summary>
    void Append(GatewayDbContext change, EventLogEntry entry);

    /// <summary>The newest committed id; 0 for an empty log that never had an event.</summary>
    Task<long> HeadAsync(CancellationToken cancellationToken);

    Task<EventLogState> StateAsync(CancellationToken cancellationToken);

    /// <summary>
    /// One page of the committed events after <see cref="EventLogRead.After"/> that match the read, in id order:
    /// at most <see cref="EventLogPages.MaxEvents"/>, cut short once <see cref="EventLogRead.MaxBytes"/> is reached.
    /// Empty: nothing more.
    /// </summary>
    Task<List<EventLogEntry>> ReadAfterAsync(EventLogRead read, CancellationToken cancellationToken);

    /// <summary>
    /// Inside a change's transaction: deletes at most <paramref name="chunk"/> of the oldest events, up to the first one
    /// created at or after <paramref name="cutoff"/> (retention is a minimum), and raises the floor to the last one
    /// deleted. Returns how many were deleted.
    /// </summary>
    Task<int> PruneAsync(GatewayDbContext change, DateTime cutoff, int chunk, CancellationToken cancellationToken);
}

/// <param name="Epoch">The log's identity; null for a database without one (never from Gateway's migrations).</param>
/// <param name="RetentionFloor">Every event with a greater id is in the log.</param>
internal sealed record EventLogState(string? Epoch, long RetentionFloor);

/// <summary>What to read: events after a position, up to an id, of at least a priority, of one subject.</summary>
/// <param name="Scope">A <see cref="Gateway.Contracts.SubscriptionScopes"/> value; <see cref="Gateway.Contracts.SubscriptionScopes.All"/> or null for every subject.</param>
internal sealed record EventLogRead(long After, long MaxBytes, long? UpTo = null, int MinPriority = 0, string? Scope = null, string? SubjectId = null);
