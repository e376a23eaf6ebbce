using Gateway.Server.Sessions;

namespace Gateway.Server.Cluster;

/// <summary>
/// Signals between nodes through the shared database: each written in a session writer's transaction, read by every
/// other node after the last id it read. The contract every implementation keeps:
/// <list type="bullet">
/// <item>Ids strictly increase in commit order across the writers of every node: once a reader has seen id X, no
/// commit can later make a signal with an id below X visible, so reading after the last id read misses nothing.</item>
/// <item>A signal is visible exactly when the transaction it was written in commits.</item>
/// <item>A node reads the signals of other nodes only, addressed to every node or to it.</item>
/// </list>
/// Signals are not a log clients resume from: a node starts after <see cref="HeadAsync"/>, and they are pruned by age.
/// The specification every implementation must pass is <c>SignalStoreSpecification</c> in the server's tests.
/// </summary>
internal interface ISignalStore
{
    /// <summary>The newest signal's id; 0 when there is none.</summary>
    Task<long> HeadAsync(CancellationToken cancellationToken);

    /// <summary>Appends a signal in a writer's transaction; <paramref name="signal"/>'s id is ignored.</summary>
    Task InsertAsync(ISessionTransaction transaction, Signal signal, CancellationToken cancellationToken);

    /// <summary>At most <paramref name="max"/> signals after <paramref name="after"/> for <paramref name="nodeId"/>, from other nodes, in id order.</summary>
    Task<List<Signal>> ReadAfterAsync(long after, string nodeId, int max, CancellationToken cancellationToken);

    /// <summary>Deletes the signals created before <paramref name="cutoff"/> in a writer's transaction; returns how many.</summary>
    Task<int> PruneAsync(ISessionTransaction transaction, DateTime cutoff, CancellationToken cancellationToken);
}

/// <param name="Kind">One of the <see cref="ClusterSignals"/> kinds.</param>
/// <param name="TargetNode">The node it is for; null: every node.</param>
/// <param name="Payload">JSON.</param>
internal sealed record Signal(long Id, string Kind, string OriginNode, string? TargetNode, string Payload, DateTime CreatedAt)
{
    /// <summary>The columns every store's read selects, in order.</summary>
    public const string Columns = "id, kind, origin_node, target_node, payload, created_at";

    /// <summary>A row of <see cref="Columns"/>; <paramref name="createdAt"/> reads the provider's timestamp column.</summary>
    public static Signal Read(System.Data.Common.DbDataReader reader, Func<System.Data.Common.DbDataReader, int, DateTime> createdAt) => new(
        reader.GetInt64(0),
        reader.GetString(1),
        reader.GetString(2),
        reader.IsDBNull(3) ? null : reader.GetString(3),
        reader.GetString(4),
        createdAt(reader, 5));
}
