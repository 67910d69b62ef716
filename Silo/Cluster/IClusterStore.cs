namespace OrleansBus.Silo.Cluster;

/// <summary>
/// Cluster state in the metadata store (membership itself is Orleans'): which peers hold a replica of which chunk, and
/// the conditional seal a replica makes for a dead owner. Every change is a single conditional statement, so two silos
/// racing (two replicas sealing) cannot both win.
/// </summary>
public interface IClusterStore
{
    /// <summary>Records that <paramref name="siloId"/> holds (or is being sent) a replica of the chunk. Idempotent.</summary>
    Task AddReplicaAsync(string category, string chunk, string siloId, CancellationToken cancellationToken);

    /// <summary>The silos recorded as replicas of each of the category's chunks.</summary>
    Task<IReadOnlyList<(string Chunk, string SiloId)>> ListReplicasAsync(string category, CancellationToken cancellationToken);

    /// <summary>
    /// Seals a chunk whose owner is dead at the size a replica holds: only while the catalog still says active, so the
    /// owner's own seal, or another replica's, wins if it came first. True when this call sealed it.
    /// </summary>
    Task<bool> SealForOwnerAsync(string category, string chunk, long size, long messages, string sealedBy, long sealedAtMs, CancellationToken cancellationToken);
}
