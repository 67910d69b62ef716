using Microsoft.Extensions.Options;
using OrleansBus.Silo.Hosting;
using OrleansBus.Silo.Metadata;
using OrleansBus.Silo.Storage;

namespace OrleansBus.Silo.Cluster;

/// <summary>
/// Seals the active chunks of owners that Orleans declared dead at least <see cref="BusOptions.OwnerDeadAfter"/> ago (by
/// then the owner's fence forbids it to acknowledge anything, see <see cref="SiloFence"/>), at the size a replica holds,
/// so consumers can finish them and the archive gets them. Among the live silos holding a copy, the one
/// with the most bytes seals (ties: the lowest silo id); the catalog update is conditional on the chunk still being
/// active, so the owner's own seal or another replica's wins if it came first. The sealing replica then archives the
/// chunk (<c>sealed_by</c>). Everything a produce acknowledged with <c>min_sync_replicas</c> is in every such copy.
/// </summary>
public sealed partial class OwnerFailureSealer(
    LogStore store, IMetadataStore metadata, Membership membership, PeerClient peers, ClusterReads reads,
    IOptions<BusOptions> options, TimeProvider time, ILogger<OwnerFailureSealer> logger) : BackgroundService
{
    private static readonly TimeSpan CheckInterval = TimeSpan.FromSeconds(1);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(CheckInterval, time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                if (!store.IsReady)
                    continue;
                foreach (var log in store.All())
                {
                    foreach (var chunk in log.Chunks)
                    {
                        if (chunk is { IsForeign: true, State: ChunkStates.Active } && membership.IsGoneFor(chunk.Owner, options.Value.OwnerDeadAfter))
                            await TrySealAsync(log, chunk, stoppingToken);
                    }
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    private async Task TrySealAsync(CategoryLog log, Chunk chunk, CancellationToken cancellationToken)
    {
        try
        {
            // A chunk no live silo holds a copy of (its owner died before sending any byte) is sealed empty by the first live
            // silo, so it does not stay active for ever; its owner re-publishes whatever it wrote when it comes back.
            if (chunk.Mirror is null && !IsFirstLiveSilo())
                return;
            // Bytes arrived lately: the owner was pushing to us within the grace, so wait for the view to settle.
            if (chunk.Mirror?.SinceLastAppend < options.Value.OwnerDeadAfter)
                return;
            var mine = chunk.Mirror?.Position ?? default;
            foreach (var (name, silo) in await metadata.Cluster.ListReplicasAsync(chunk.Category, cancellationToken))
            {
                if (name != chunk.Name || silo == store.SiloId || silo == chunk.Owner || !membership.IsLive(silo) || membership.AddressOf(silo) is not { } address)
                    continue;
                var theirs = await peers.ReplicaPositionAsync(address, chunk.Category, chunk.Name, cancellationToken);
                if (theirs is { } other && (chunk.Mirror is null || other.Size > mine.Size || other.Size == mine.Size && string.CompareOrdinal(silo, store.SiloId) < 0))
                    return; // that replica holds more (or as much, and comes first): it seals
            }
            await store.MirrorOf(chunk, log).SyncAsync(); // an empty copy when there was none: what gets archived
            var sealedAt = time.GetUtcNow();
            if (await metadata.Cluster.SealForOwnerAsync(chunk.Category, chunk.Name, mine.Size, mine.Messages, store.SiloId, sealedAt.ToUnixTimeMilliseconds(), cancellationToken))
            {
                chunk.FinalMessages = mine.Messages;
                chunk.ApplyCatalog(ChunkStates.Sealed, mine.Size, sealedAt, store.SiloId);
                Log.SealedForOwner(logger, chunk.Category, chunk.Name, chunk.Owner, mine.Size, mine.Messages);
                store.NotifyChunkSealed(chunk); // this silo archives it now
                log.SignalDataArrived();
            }
            else
            {
                await reads.RefreshAsync(log, TimeSpan.Zero, cancellationToken); // someone else sealed it: learn how
            }
        }
        catch (MetadataStoreException e)
        {
            Log.SealFailed(logger, e, chunk.Category, chunk.Name);
        }
    }

    private bool IsFirstLiveSilo()
    {
        foreach (var silo in membership.LivePeers())
        {
            if (string.CompareOrdinal(silo.SiloId, store.SiloId) < 0)
                return false;
        }
        return true;
    }

    private static partial class Log
    {
        [LoggerMessage(4301, LogLevel.Warning, "Sealed {Category}/{Chunk} for its dead owner {Owner} at {Size} bytes, {Messages} messages")]
        public static partial void SealedForOwner(ILogger logger, string category, string chunk, string owner, long size, long messages);

        [LoggerMessage(4302, LogLevel.Warning, "Sealing {Category}/{Chunk} for its dead owner failed; trying again in a second")]
        public static partial void SealFailed(ILogger logger, Exception exception, string category, string chunk);
    }
}
