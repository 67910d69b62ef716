using System.Diagnostics;
using Microsoft.Extensions.Options;
using OrleansBus.Contracts;
using OrleansBus.Contracts.Grains;
using OrleansBus.Silo.Hosting;
using OrleansBus.Silo.Replication;

namespace OrleansBus.Silo.Storage;

/// <summary>
/// What <see cref="Grains.ChunkWriterGrain"/> does for an append, outside the grain: the category's writer (group commit,
/// fsync), the wait for <c>min_sync_replicas</c>, the fence check, the disk-full clean-up. Thread safe and stateless.
/// Kept out of the grain class on purpose: its awaits continue on the thread that completed them
/// (<c>ConfigureAwait(false)</c>) instead of queueing back onto the grain's scheduler, which every append of the category
/// shares, so the reply goes out from the writer's completion without one more hop. Nothing here touches grain state, so
/// leaving the grain's context is safe.
/// </summary>
public sealed class ChunkAppender(LogStore store, Replicator replicator, Cluster.SiloFence fence, IOptions<BusOptions> options)
{
    public async Task<AppendOutcome> AppendAsync(string category, LocalBatch batch, AppendOptions append)
    {
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        // A span of its own under the request's (null, and free, when nobody listens): the writer part of a produce trace.
        using var activity = Telemetry.BusTelemetry.Activities.StartActivity("orleansbus.append", ActivityKind.Internal, batch.Trace);
        activity?.SetTag("orleansbus.category", category);
        activity?.SetTag("orleansbus.messages", batch.Messages);
        var outcome = await AppendCoreAsync(category, batch, append).ConfigureAwait(false);
        activity?.SetTag("orleansbus.status", outcome.Status.ToString());
        activity?.SetTag("orleansbus.chunk", outcome.Chunk);
        if (outcome.Status == AppendStatus.Ok)
        {
            var tags = new TagList { { "category", category }, { "durability", DurabilityTag(outcome.Durability) } };
            Telemetry.BusTelemetry.ProducedMessages.Add(outcome.Messages, tags);
            Telemetry.BusTelemetry.ProducedBytes.Add(outcome.Length, tags);
            Telemetry.BusTelemetry.ProduceDuration.Record(System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalMilliseconds, tags);
        }
        return outcome;
    }

    // "replicas:2" and "replicas:3" are one durability for a dashboard.
    private static string DurabilityTag(string met) => met.StartsWith("replicas:", StringComparison.Ordinal) ? "replicas" : met;

    private async Task<AppendOutcome> AppendCoreAsync(string category, LocalBatch batch, AppendOptions append)
    {
        if (!store.IsReady)
            return Refused(AppendStatus.NotReady, null);
        var existed = store.Find(category) is not null;
        CategoryLog? log = null;
        try
        {
            log = await store.GetOrCreateAsync(category, CancellationToken.None).ConfigureAwait(false);
            var fsync = append.Fsync ?? log.Settings.DefaultDurability == DurabilityNames.Fsync;
            var result = await log.Writer.AppendAsync(new AppendRequest(batch.Body, batch.Messages, batch.Crc, fsync)).ConfigureAwait(false);
            var met = result.Synced ? DurabilityNames.Fsync : DurabilityNames.PageCache;
            var held = 0;
            var status = AppendStatus.Ok;
            if (append.MinSyncReplicas > 0)
            {
                var chunk = log.FindChunk(result.Chunk);
                held = chunk is null ? 0 : await replicator.WaitAsync(chunk, result.Offset + result.Length, append.MinSyncReplicas, options.Value.ReplicationTimeout, CancellationToken.None).ConfigureAwait(false);
                if (held < append.MinSyncReplicas)
                    status = AppendStatus.ReplicationTimeout;
                else
                    met = $"replicas:{held}";
            }
            // Checked last, after every wait: an acknowledgement is given now, so membership must have been confirmed lately.
            if (!fence.MayAcknowledge)
                status = AppendStatus.Fenced;
            return new AppendOutcome(status, result.Chunk, result.Offset, result.Length, result.Messages, met, held, null);
        }
        catch (Exception e) when (CategoryDeletingException.Find(e) is not null
            || (e is System.Threading.Channels.ChannelClosedException && store.IsDropping(category)))
        {
            return Refused(AppendStatus.CategoryDeleting, $"Category {category} is being deleted.");
        }
        catch (Exception e) when (e is DiskFullException || (e is IOException io && NativeFile.IsDiskFull(io)))
        {
            if (!existed && log is not null)
                await store.RemoveIfEmptyAsync(log).ConfigureAwait(false);
            return Refused(AppendStatus.DiskFull, e.Message);
        }
    }

    private static AppendOutcome Refused(AppendStatus status, string? detail) => new(status, "", 0, 0, 0, "", 0, detail);
}
