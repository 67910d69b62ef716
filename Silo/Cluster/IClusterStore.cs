namespace OrleansBus.Silo.Cluster;

/// <summary>A silo's membership row: where peers and the gateway reach it, and when it last said it was alive.</summary>
public sealed record SiloRecord(string SiloId, string Address, long Epoch, long StartedAtMs, long HeartbeatAtMs, string State)
{
    public const string LiveState = "live";
    public const string LeftState = "left";

    /// <summary>Live: not stopped cleanly, and a heartbeat within <paramref name="deadAfterMs"/> of <paramref name="nowMs"/>.</summary>
    public bool IsLive(long nowMs, long deadAfterMs) => State == LiveState && nowMs - HeartbeatAtMs <= deadAfterMs;
}

/// <summary>
/// Cluster state in the metadata store: the <c>silos</c> membership table (heartbeats, one epoch per start), which
/// peers hold a replica of which chunk, and the conditional seal a replica makes for a dead owner. Every change is a
/// single conditional statement, so two silos racing (two replicas sealing, two starts with one id) cannot both win.
/// </summary>
public interface IClusterStore
{
    /// <summary>Registers this start: a new epoch (previous + 1, or 1), state live, heartbeat now. Returns the epoch.</summary>
    Task<long> JoinAsync(string siloId, string address, long nowMs, CancellationToken cancellationToken);

    /// <summary>Records a heartbeat; false when the row now belongs to a newer start (another process took this id).</summary>
    Task<bool> HeartbeatAsync(string siloId, long epoch, long nowMs, CancellationToken cancellationToken);

    /// <summary>A clean stop: the silo stops counting as live at once, without waiting for its heartbeats to age.</summary>
    Task LeaveAsync(string siloId, long epoch, long nowMs, CancellationToken cancellationToken);

    Task<IReadOnlyList<SiloRecord>> ListSilosAsync(CancellationToken cancellationToken);

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
