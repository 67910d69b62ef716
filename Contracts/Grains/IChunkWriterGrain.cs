namespace OrleansBus.Contracts.Grains;

/// <summary>
/// The per-silo chunk grain: appends to this silo's active chunk of one category (group commit, fsync, rotation, seal,
/// replication to peers). Keyed <see cref="GrainKeys.ChunkWriter"/> and pinned to the silo the key names; called only
/// from inside that silo (the HTTP edge that received the bytes), so the payload never crosses the network.
/// </summary>
[Alias("orleansbus.IChunkWriterGrain")]
public interface IChunkWriterGrain : IGrainWithStringKey
{
    /// <summary>
    /// Appends one validated batch and answers once the requested durability is met: written (page cache), covered by an
    /// fdatasync (<paramref name="options"/>.Fsync), and held by <c>MinSyncReplicas</c> peers when that is above 0.
    /// </summary>
    [Alias("append")]
    Task<AppendOutcome> AppendAsync(LocalBatch batch, AppendOptions options);
}

/// <summary>How a batch must be acknowledged: null <see cref="Fsync"/> means the category's default durability.</summary>
[GenerateSerializer, Immutable, Alias("orleansbus.AppendOptions")]
public sealed record AppendOptions([property: Id(0)] bool? Fsync, [property: Id(1)] int MinSyncReplicas);

/// <summary>How an append ended.</summary>
[GenerateSerializer, Alias("orleansbus.AppendStatus")]
public enum AppendStatus
{
    /// <summary>Written with the durability <see cref="AppendOutcome.Durability"/> names.</summary>
    Ok,
    /// <summary>Written locally, but fewer than the requested replicas held it in time (<see cref="AppendOutcome.ReplicasHeld"/>).</summary>
    ReplicationTimeout,
    /// <summary>No room on the disk: nothing of the batch is kept or visible.</summary>
    DiskFull,
    /// <summary>The silo's storage is not ready (starting or stopping): nothing was written.</summary>
    NotReady,
    /// <summary>
    /// Written locally, but the silo could not confirm it is still a cluster member (it may have been declared dead):
    /// not acknowledged. A retry elsewhere may duplicate it (at-least-once); it is never served at an offset readers saw.
    /// </summary>
    Fenced,
    /// <summary>The category is being deleted: nothing was written.</summary>
    CategoryDeleting,
}

/// <summary>Where an appended batch landed and which guarantee was met (<c>page-cache</c>, <c>fsync</c>, <c>replicas:N</c>).</summary>
[GenerateSerializer, Immutable, Alias("orleansbus.AppendOutcome")]
public sealed record AppendOutcome(
    [property: Id(0)] AppendStatus Status,
    [property: Id(1)] string Chunk,
    [property: Id(2)] long Offset,
    [property: Id(3)] long Length,
    [property: Id(4)] int Messages,
    [property: Id(5)] string Durability,
    [property: Id(6)] int ReplicasHeld,
    [property: Id(7)] string? Detail);
