using OrleansBus.Contracts.Grains;
using OrleansBus.Silo.Archive;
using OrleansBus.Silo.Metadata;

namespace OrleansBus.Silo.Grains;

/// <summary>
/// Retention: the category grain, the only writer of the catalog, decides which chunks expire. Only final chunks (sealed
/// or archived) expire, never an active one. Age: a chunk whose seal is older than <c>retentionMs</c> (the seal comes
/// after its newest message, so nothing is deleted early). Size: while the category's chunks that are not expired hold
/// more than <c>retentionBytes</c>, the oldest final ones. The catalog row turns <c>expired</c> first (a conditional
/// update: nothing ever leaves that state), every silo is told at once and deletes its files — the chunk, copies,
/// downloads — and never serves it again; then the blob is deleted, retried every round until the archive confirms it.
/// </summary>
public sealed partial class CategoryGrain
{
    private IGrainTimer? _retentionTimer;

    /// <summary>
    /// A timer only while there is something to do — a retention setting, or blobs still to delete — so a category without
    /// retention costs nothing and its grain may deactivate. KeepAlive: an idle category with retention must still expire.
    /// </summary>
    private void UpdateRetentionTimer()
    {
        var needed = !Deleting && (state.State.Settings is { } s && (s.RetentionMs > 0 || s.RetentionBytes > 0) || state.State.BlobsToDelete.Count > 0);
        if (needed && _retentionTimer is null)
        {
            var every = options.Value.RetentionCheckInterval;
            _retentionTimer = this.RegisterGrainTimer(async _ => await ApplyRetentionAsync(), new GrainTimerCreationOptions(every, every) { KeepAlive = true });
        }
        else if (!needed && _retentionTimer is not null)
        {
            _retentionTimer.Dispose();
            _retentionTimer = null;
        }
    }

    public async Task<string[]> ApplyRetentionAsync()
    {
        var expired = new List<string>();
        if (Deleting)
            return []; // the deletion deletes every chunk and blob
        if (state.State.Settings is { } settings && (settings.RetentionMs > 0 || settings.RetentionBytes > 0))
        {
            foreach (var chunk in ChunksToExpire(settings, time.GetUtcNow().ToUnixTimeMilliseconds()))
            {
                var sealedAt = chunk.SealedAtMs is { } ms ? DateTimeOffset.FromUnixTimeMilliseconds(ms) : (DateTimeOffset?)null;
                if (!await database.UpdateChunkAsync(Category, chunk.Name, ChunkStates.Expired, chunk.Size, chunk.Messages, sealedAt, CancellationToken.None))
                    continue; // the row moved on meanwhile (another activation expired it): the next round sees it
                Changed(chunk with { State = ChunkStates.Expired });
                expired.Add(chunk.Name);
                LogChunkExpired(logger, Category, chunk.Name, chunk.Size, chunk.Messages);
            }
            if (expired.Count > 0)
            {
                state.State.BlobsToDelete.AddRange(expired);
                await state.WriteStateAsync();
            }
        }
        await DeleteBlobsAsync();
        UpdateRetentionTimer();
        return [.. expired];
    }

    /// <summary>Oldest first: past the age, then whatever keeps the category over its size limit.</summary>
    private List<CatalogChunk> ChunksToExpire(CategorySettings settings, long nowMs)
    {
        var live = _chunks.Values.Where(c => c.State != ChunkStates.Expired)
            .OrderBy(c => c.CreatedAtMs).ThenBy(c => c.Owner, StringComparer.Ordinal).ThenBy(c => c.Seq).ToList();
        var expire = new List<CatalogChunk>();
        if (settings.RetentionMs > 0)
            expire.AddRange(live.Where(c => ChunkStates.IsFinal(c.State) && c.SealedAtMs is { } s && nowMs - s > settings.RetentionMs));
        var byAge = expire.Select(c => c.Name).ToHashSet(StringComparer.Ordinal);
        if (settings.RetentionBytes > 0)
        {
            var total = live.Sum(c => c.Size) - expire.Sum(c => c.Size);
            foreach (var chunk in live)
            {
                if (total <= settings.RetentionBytes)
                    break;
                if (!ChunkStates.IsFinal(chunk.State) || byAge.Contains(chunk.Name))
                    continue; // an active chunk is never expired; a newer final one goes instead
                expire.Add(chunk);
                total -= chunk.Size;
            }
        }
        return expire;
    }

    /// <summary>Deletes the blob of every expired chunk still listed; what fails stays listed for the next round.</summary>
    private async Task DeleteBlobsAsync()
    {
        if (state.State.BlobsToDelete.Count == 0)
            return;
        var done = new List<string>();
        foreach (var chunk in state.State.BlobsToDelete)
        {
            try
            {
                await archive.DeleteAsync(Category, chunk, CancellationToken.None); // false: it was never archived
                done.Add(chunk);
            }
            catch (ArchiveException e)
            {
                LogBlobNotDeleted(logger, e, Category, chunk);
                break; // the archive is unreachable: the next round tries them all again
            }
        }
        if (done.Count == 0)
            return;
        state.State.BlobsToDelete.RemoveAll(done.Contains);
        await state.WriteStateAsync();
    }

    [LoggerMessage(LogLevel.Information, "Retention expired {Category}/{Chunk} ({Size} bytes, {Messages} messages)")]
    private static partial void LogChunkExpired(ILogger logger, string category, string chunk, long size, long messages);

    [LoggerMessage(LogLevel.Warning, "Could not delete the blob of expired chunk {Category}/{Chunk}; retried next round")]
    private static partial void LogBlobNotDeleted(ILogger logger, Exception exception, string category, string chunk);
}
