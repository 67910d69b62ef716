using Microsoft.Extensions.Options;
using Orleans.Concurrency;
using OrleansBus.Contracts;
using OrleansBus.Contracts.Grains;
using OrleansBus.Silo.Hosting;
using OrleansBus.Silo.Placement;
using OrleansBus.Silo.Replication;
using OrleansBus.Silo.Storage;

namespace OrleansBus.Silo.Grains;

/// <summary>
/// The per-silo chunk grain of one category (<see cref="IChunkWriterGrain"/>), pinned to the silo its key names. It
/// wraps the storage engine: the category's <see cref="ChunkWriter"/> owns the active chunk, the group commit, rotation
/// and seal, and the <see cref="Replicator"/> streams it to peers.
/// Reentrant: a call that awaits its fdatasync or its replicas must not hold back the next append, or concurrent
/// producers would no longer share one fdatasync. That is safe because the grain keeps no state of its own between
/// awaits; the writer's single loop orders every append of the category. Nothing is acknowledged while the silo's
/// <see cref="Cluster.SiloFence"/> is up.
/// </summary>
[Reentrant]
[SiloPinnedPlacement]
public sealed class ChunkWriterGrain(LogStore store, Replicator replicator, Cluster.SiloFence fence, IOptions<BusOptions> busOptions) : Grain, IChunkWriterGrain
{
    private string Category => GrainKeys.CategoryOf(this.GetPrimaryKeyString());

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        // The placement director guarantees this; a mismatch would mean two silos writing one owner's chunks.
        var silo = GrainKeys.PinnedSilo(this.GetPrimaryKeyString());
        if (!string.Equals(silo, store.SiloId, StringComparison.Ordinal))
            throw new PinnedSiloUnavailableException(silo ?? "", this.GetGrainId().ToString());
        return Task.CompletedTask;
    }

    public async Task<AppendOutcome> AppendAsync(LocalBatch batch, AppendOptions options)
    {
        if (!batch.IsLocal)
            throw new InvalidOperationException("A chunk writer takes bytes only from its own silo; other callers send them over HTTP.");
        if (!store.IsReady)
            return Refused(AppendStatus.NotReady, null);
        var category = Category;
        var existed = store.Find(category) is not null;
        CategoryLog? log = null;
        try
        {
            log = await store.GetOrCreateAsync(category, CancellationToken.None);
            var fsync = options.Fsync ?? log.Settings.DefaultDurability == DurabilityNames.Fsync;
            var result = await log.Writer.AppendAsync(new AppendRequest(batch.Body, batch.Messages, batch.Crc, fsync));
            var met = result.Synced ? DurabilityNames.Fsync : DurabilityNames.PageCache;
            var held = 0;
            var status = AppendStatus.Ok;
            if (options.MinSyncReplicas > 0)
            {
                var chunk = log.FindChunk(result.Chunk);
                held = chunk is null ? 0 : await replicator.WaitAsync(chunk, result.Offset + result.Length, options.MinSyncReplicas, busOptions.Value.ReplicationTimeout, CancellationToken.None);
                if (held < options.MinSyncReplicas)
                    status = AppendStatus.ReplicationTimeout;
                else
                    met = $"replicas:{held}";
            }
            // Checked last, after every wait: an acknowledgement is given now, so membership must have been confirmed lately.
            if (!fence.MayAcknowledge)
                status = AppendStatus.Fenced;
            return new AppendOutcome(status, result.Chunk, result.Offset, result.Length, result.Messages, met, held, null);
        }
        catch (Exception e) when (e is DiskFullException || (e is IOException io && NativeFile.IsDiskFull(io)))
        {
            if (!existed && log is not null)
                await store.RemoveIfEmptyAsync(log);
            return Refused(AppendStatus.DiskFull, e.Message);
        }
    }

    private static AppendOutcome Refused(AppendStatus status, string? detail) => new(status, "", 0, 0, 0, "", 0, detail);
}
