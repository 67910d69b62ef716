using OrleansBus.Silo.Metadata;

namespace OrleansBus.Silo.Storage;

public sealed partial class LogStore
{
    /// <summary>Reads that started before an expiry finish on the open handles; they are closed after this.</summary>
    private static readonly TimeSpan ExpiredHandleGrace = TimeSpan.FromSeconds(30);

    /// <summary>
    /// The category grain expired <paramref name="name"/> (retention): from now on it is never served (410
    /// <c>chunk_expired</c>, polls skip it), and its files here — the chunk or its copy, the index, an archive download —
    /// are deleted. Open handles close after a grace period, so a read already under way finishes. True when this changed
    /// something here.
    /// </summary>
    internal bool Expire(CategoryLog log, string name)
    {
        if (log.FindChunk(name) is not { } chunk || chunk.State == ChunkStates.Expired)
            return false;
        chunk.SetState(ChunkStates.Expired);
        DeleteExpiredFiles(chunk);
        Log.ChunkExpired(_logger, chunk.Category, chunk.Name);
        _ = CloseAfterGraceAsync(chunk);
        return true;
    }

    /// <summary>The files an expired chunk may have left here; each one is tried, whatever happened to the others.</summary>
    internal void DeleteExpiredFiles(Chunk chunk)
    {
        foreach (var path in (string[])[chunk.DataPath, chunk.IndexPath, CachePath(chunk.Category, chunk.Name)])
        {
            if (!File.Exists(path))
                continue; // never there (no download was made), or gone already: File.Delete throws when the folder is missing
            try
            {
                File.Delete(path);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                Log.ExpiredFileNotDeleted(_logger, e, path);
            }
        }
    }

    /// <summary>Where an archived chunk is downloaded to when no local copy is left.</summary>
    internal string CachePath(string category, string chunk) => Path.Combine(CacheDir, category, chunk);

    /// <summary><c>&lt;DataDir&gt;/cache</c>: archived chunks downloaded because no local copy was left, one folder per category.</summary>
    internal string CacheDir => Path.Combine(DataDir, "cache");

    private async Task CloseAfterGraceAsync(Chunk chunk)
    {
        await Task.Delay(ExpiredHandleGrace, _time);
        chunk.Mirror?.Dispose();
        chunk.Dispose();
    }
}
