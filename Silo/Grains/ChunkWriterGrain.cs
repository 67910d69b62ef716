using Orleans.Concurrency;
using OrleansBus.Contracts.Grains;
using OrleansBus.Silo.Placement;
using OrleansBus.Silo.Storage;

namespace OrleansBus.Silo.Grains;

/// <summary>
/// The per-silo chunk grain of one category (<see cref="IChunkWriterGrain"/>), pinned to the silo its key names. It
/// wraps the storage engine: the category's <see cref="ChunkWriter"/> owns the active chunk, the group commit, rotation
/// and seal, and the replicator streams it to peers; <see cref="ChunkAppender"/> does one append end to end.
/// Reentrant: a call that waits for its fdatasync or its replicas must not hold back the next append, or concurrent
/// producers would no longer share one fdatasync. That is safe because the grain keeps no state of its own; the
/// writer's single loop orders every append of the category. Nothing is acknowledged while the silo's
/// <see cref="Cluster.SiloFence"/> is up.
/// </summary>
[Reentrant]
[SiloPinnedPlacement]
public sealed class ChunkWriterGrain(LogStore store, ChunkAppender appender) : Grain, IChunkWriterGrain
{
    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        // The placement director guarantees this; a mismatch would mean two silos writing one owner's chunks.
        var silo = GrainKeys.PinnedSilo(this.GetPrimaryKeyString());
        if (!string.Equals(silo, store.SiloId, StringComparison.Ordinal))
            throw new PinnedSiloUnavailableException(silo ?? "", this.GetGrainId().ToString());
        return Task.CompletedTask;
    }

    public Task<AppendOutcome> AppendAsync(LocalBatch batch, AppendOptions options)
    {
        if (!batch.IsLocal)
            throw new InvalidOperationException("A chunk writer takes bytes only from its own silo; other callers send them over HTTP.");
        return appender.AppendAsync(GrainKeys.CategoryOf(this.GetPrimaryKeyString()), batch, options);
    }
}
