using Microsoft.Extensions.Logging;
using OrleansBus.Silo.Archive;
using OrleansBus.Silo.Metadata;

namespace OrleansBus.Silo.Storage;

public sealed partial class Archiver
{
    private async Task ArchiveAsync(Chunk chunk, CancellationToken cancellationToken)
    {
        if (chunk.State == ChunkStates.Expired)
            return; // retention deleted it before its turn came
        var size = chunk.Size;
        long length;
        try
        {
            // No hash of our own: the archive hashes what it copies, and a hard link is this very file.
            length = new FileInfo(chunk.DataPath).Length;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Log.ArchiveSourceUnreadable(_logger, e, chunk.Category, chunk.Name);
            _failed.TryAdd(chunk, 0);
            return;
        }
        if (length != size)
        {
            // The sealed size is the truth; a file of another length is not what the catalog promised.
            Log.ArchiveSourceMismatch(_logger, chunk.Category, chunk.Name, size, length);
            _failed.TryAdd(chunk, 0);
            return;
        }
        if (!await UploadAsync(chunk, size, cancellationToken))
        {
            _failed.TryAdd(chunk, 0);
            return;
        }
        await RecordArchivedAsync(chunk, size, cancellationToken);
    }

    /// <summary>True once the archive holds the verified bytes; false when retrying cannot help.</summary>
    private async Task<bool> UploadAsync(Chunk chunk, long size, CancellationToken cancellationToken)
    {
        var delay = FirstRetryDelay;
        var integrityFailures = 0;
        while (true)
        {
            try
            {
                var outcome = await _archive.UploadAsync(chunk.Category, chunk.Name, chunk.DataPath, size, expectedHash: null, cancellationToken);
                Log.ChunkUploaded(_logger, chunk.Category, chunk.Name, size, outcome);
                return true;
            }
            catch (ArchiveUnavailableException e)
            {
                Log.ArchiveUnavailable(_logger, e, chunk.Category, chunk.Name, delay);
            }
            catch (ArchiveIntegrityException e)
            {
                if (++integrityFailures >= IntegrityAttempts)
                {
                    Log.ArchiveIntegrityFailed(_logger, e, chunk.Category, chunk.Name, integrityFailures);
                    return false;
                }
                Log.ArchiveIntegrityRetry(_logger, e, chunk.Category, chunk.Name);
            }
            catch (ArchiveConflictException e)
            {
                // Another chunk holds the name: keep both copies and let an operator decide.
                Log.ArchiveConflict(_logger, e, chunk.Category, chunk.Name);
                return false;
            }
            catch (ArchiveException e)
            {
                // Configuration or service error (bad key, missing container rights): retry, an operator may fix it.
                Log.ArchiveFailed(_logger, e, chunk.Category, chunk.Name, delay);
            }
            delay = await PauseAsync(delay, cancellationToken);
        }
    }

    private async Task RecordArchivedAsync(Chunk chunk, long size, CancellationToken cancellationToken)
    {
        var delay = FirstRetryDelay;
        while (true)
        {
            try
            {
                if (await _metadata.UpdateChunkAsync(chunk.Category, chunk.Name, ChunkStates.Archived, size, chunk.Messages, chunk.SealedAt, cancellationToken))
                    chunk.SetState(ChunkStates.Archived);
                else if (await ExpiredInCatalogAsync(chunk, cancellationToken))
                    await DeleteExpiredUploadAsync(chunk, cancellationToken);
                else
                    Log.ArchiveNotRecorded(_logger, chunk.Category, chunk.Name, size); // the catalog says otherwise: keep the local chunk
                return;
            }
            catch (MetadataStoreException e)
            {
                Log.ArchiveRecordFailed(_logger, e, chunk.Name);
            }
            delay = await PauseAsync(delay, cancellationToken);
        }
    }

    /// <summary>
    /// Deletes the local files of archived chunks sealed longer than LocalRetention ago — this silo's own, and its copies
    /// of other silos' chunks (replicas and pulled copies) — once the catalog says archived and the archive still holds
    /// the chunk (<see cref="ArchiveStillHoldsAsync"/>); reads then use the cache.
    /// </summary>
    private async Task DropExpiredLocalCopiesAsync(CancellationToken cancellationToken)
    {
        var cutoff = _time.GetUtcNow() - _options.LocalRetention;
        foreach (var log in _store.All())
        {
            foreach (var chunk in log.Chunks)
            {
                if (chunk.State != ChunkStates.Archived || chunk.IsRemote || (chunk.SealedAt ?? chunk.CreatedAt) > cutoff)
                    continue;
                if (chunk.IsForeign && chunk.Mirror is null)
                    continue; // never copied here: nothing to drop
                if (await ArchiveStillHoldsAsync(chunk, cancellationToken))
                    DropLocalCopy(chunk);
            }
        }
    }

    /// <summary>
    /// Checked right before a local copy goes, because the archive can lose a chunk after it verified it (Azurite killed
    /// before it saved its metadata did exactly that, and every silo then dropped its copy of data nobody held any more).
    /// First a cheap length probe (so an unreachable archive costs no hashing, sweep after sweep); then a whole local copy
    /// is uploaded again: the archive answers "already archived" when it holds the same length and SHA-256, and stores it
    /// anew when it lost it. A partial copy can only be compared by length. False (keep the copy) when the archive cannot
    /// say or holds something else.
    /// </summary>
    private async Task<bool> ArchiveStillHoldsAsync(Chunk chunk, CancellationToken cancellationToken)
    {
        try
        {
            var stored = await _archive.GetLengthAsync(chunk.Category, chunk.Name, cancellationToken);
            if (new FileInfo(chunk.DataPath).Length == chunk.FinalSize)
                return await ConfirmOrUploadAsync(chunk, cancellationToken);
            if (stored == chunk.FinalSize)
                return true;
            Log.ArchiveLostPartialCopyKept(_logger, chunk.Category, chunk.Name);
            return false;
        }
        catch (Exception e) when (e is ArchiveException or IOException or UnauthorizedAccessException)
        {
            Log.LocalCopyKept(_logger, e, chunk.Category, chunk.Name);
            return false;
        }
    }

    /// <summary>Uploads the whole local copy; the archive confirms it holds the same bytes, or stores them again if it lost them.</summary>
    private async Task<bool> ConfirmOrUploadAsync(Chunk chunk, CancellationToken cancellationToken)
    {
        if (await _archive.UploadAsync(chunk.Category, chunk.Name, chunk.DataPath, chunk.FinalSize, expectedHash: null, cancellationToken) == ArchiveUploadOutcome.Created)
        {
            Log.ArchiveRestored(_logger, chunk.Category, chunk.Name, chunk.FinalSize);
            Telemetry.BusTelemetry.ArchiveRestored.Add(1, new KeyValuePair<string, object?>("category", chunk.Category));
        }
        return true;
    }

    /// <summary>
    /// The periodic check (<see cref="BusOptions.ArchiveCheckInterval"/>): asks the archive for the length of every chunk
    /// this silo archived. One it lost goes up again from the local copy when there is one; otherwise the loss is logged
    /// and counted now, not first met by a reader.
    /// </summary>
    private async Task CheckArchivedChunksAsync(CancellationToken cancellationToken)
    {
        var archived = new List<Chunk>();
        ForEachOwnChunk(chunk =>
        {
            if (chunk.State == ChunkStates.Archived)
                archived.Add(chunk);
        });
        foreach (var chunk in archived)
        {
            try
            {
                if (await _archive.GetLengthAsync(chunk.Category, chunk.Name, cancellationToken) == chunk.FinalSize)
                    continue;
                if (!chunk.IsRemote && File.Exists(chunk.DataPath) && new FileInfo(chunk.DataPath).Length == chunk.FinalSize)
                    await ConfirmOrUploadAsync(chunk, cancellationToken);
                else
                    ReportMissing(chunk);
            }
            catch (Exception e) when (e is ArchiveException or IOException)
            {
                Log.ArchiveCheckFailed(_logger, e, chunk.Category, chunk.Name);
                return; // the archive cannot answer now: the next check tries again
            }
        }
    }

    /// <summary>
    /// Whether the catalog row says expired, or is gone (the category was deleted). The expiry and this silo's archived
    /// mark are both conditional updates of that row, so exactly one of them won: when expiry or deletion did, the category
    /// grain may have deleted the blobs before this upload landed, and the blob just uploaded must go too. Every chunk
    /// archived has a row until its category is deleted (the row is written before the file).
    /// </summary>
    private async Task<bool> ExpiredInCatalogAsync(Chunk chunk, CancellationToken cancellationToken)
    {
        foreach (var row in await _metadata.ListChunksAsync(chunk.Category, cancellationToken))
        {
            if (row.Name == chunk.Name)
                return row.State == ChunkStates.Expired;
        }
        return true;
    }

    private async Task DeleteExpiredUploadAsync(Chunk chunk, CancellationToken cancellationToken)
    {
        Log.ExpiredWhileArchiving(_logger, chunk.Category, chunk.Name);
        var delay = FirstRetryDelay;
        while (true)
        {
            try
            {
                await _archive.DeleteAsync(chunk.Category, chunk.Name, cancellationToken);
                return;
            }
            catch (ArchiveException e)
            {
                Log.ArchiveFailed(_logger, e, chunk.Category, chunk.Name, delay);
            }
            delay = await PauseAsync(delay, cancellationToken);
        }
    }

    /// <summary>The catalog says archived, no local copy is left here, and the archive lost it: an operator must know.</summary>
    private void ReportMissing(Chunk chunk)
    {
        Log.ArchiveMissing(_logger, chunk.Category, chunk.Name, _archive.Location);
        Telemetry.BusTelemetry.ArchiveMissing.Add(1, new KeyValuePair<string, object?>("category", chunk.Category));
    }

    private void DropLocalCopy(Chunk chunk)
    {
        if (chunk.IsForeign)
            chunk.Publish(chunk.FinalSize, chunk.FinalMessages); // a partly pulled copy: the archive holds it whole
        chunk.MarkRemote(FetchAsync);
        chunk.Mirror?.Dispose();
        try
        {
            File.Delete(chunk.DataPath);
            File.Delete(chunk.IndexPath);
            Log.LocalCopyDropped(_logger, chunk.Category, chunk.Name);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Log.LocalCopyNotDropped(_logger, e, chunk.DataPath);
        }
    }

    /// <summary>The cache file holding the archived chunk, downloaded when missing; its length is checked against the catalog.</summary>
    internal async Task<string> FetchAsync(Chunk chunk, CancellationToken cancellationToken)
    {
        var path = _store.CachePath(chunk.Category, chunk.Name);
        if (File.Exists(path) && new FileInfo(path).Length == chunk.Size)
            return path;
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        long length;
        try
        {
            length = await _archive.DownloadToFileAsync(chunk.Category, chunk.Name, path, cancellationToken);
        }
        catch (ArchiveNotFoundException)
        {
            ReportMissing(chunk);
            throw;
        }
        if (length != chunk.Size)
        {
            File.Delete(path);
            throw new ArchiveIntegrityException($"The archive holds {length} bytes of {chunk.Category}/{chunk.Name}; the catalog says {chunk.Size}.");
        }
        Log.ChunkCached(_logger, chunk.Category, chunk.Name, length);
        return path;
    }

    /// <summary>Waits <paramref name="delay"/> before the next attempt; returns the one after it (doubled, at most MaxRetryDelay).</summary>
    private async Task<TimeSpan> PauseAsync(TimeSpan delay, CancellationToken cancellationToken)
    {
        await Task.Delay(delay, _time, cancellationToken);
        return TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, MaxRetryDelay.Ticks));
    }
}
