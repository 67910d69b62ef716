using System.Globalization;
using OrleansBus.Contracts;
using OrleansBus.Silo.Archive;
using OrleansBus.Silo.Storage;

namespace OrleansBus.Silo.Api;

/// <summary>
/// Writes a raw read (v1 and chukcha's /read): up to <c>maxBytes</c> from <c>offset</c>, cut to the last newline,
/// with <c>Bus-Next-Offset</c>. A chunk whose local copy was dropped is first fetched from the archive into the
/// cache; while the archive cannot be reached the reader gets 503 archive_unavailable (retry later), and 503
/// archive_missing if the archive lost it — never a 500.
/// </summary>
internal static class ChunkResponse
{
    /// <summary>
    /// Finds the chunk a read names — also one another silo wrote (the catalog is read again when the name is new here,
    /// and a foreign chunk's missing batches are pulled first); the refusal when the category or chunk is unknown,
    /// quarantined, or shorter than the offset.
    /// </summary>
    public static async Task<(IResult? Error, Chunk? Chunk)> LocateAsync(LogStore store, Cluster.ClusterReads reads, string category, string chunkName, long offset, int maxBytes, CancellationToken cancellationToken)
    {
        var log = await store.FindOrOpenAsync(category, cancellationToken);
        if (log is null)
            return (BusErrors.CategoryNotFound(category), null);
        var chunk = log.FindChunk(chunkName);
        if (chunk is null)
        {
            await reads.RefreshAsync(log, TimeSpan.Zero, cancellationToken);
            chunk = log.FindChunk(chunkName);
        }
        if (chunk is null)
            return (BusErrors.ChunkNotFound(category, chunkName), null);
        if (chunk.State == Metadata.ChunkStates.Expired)
            return (BusErrors.ChunkExpired(category, chunkName), null);
        if (chunk.IsForeign && offset + maxBytes > chunk.Size)
            await reads.CatchUpAsync(chunk, log, offset + maxBytes, cancellationToken);
        if (chunk.State == Metadata.ChunkStates.Expired)
            return (BusErrors.ChunkExpired(category, chunkName), null); // expired while this read waited for its bytes
        if (chunk.State == Metadata.ChunkStates.Corrupt)
            return (BusErrors.ChunkCorrupt(chunkName, chunk.CorruptReason), null);
        var size = chunk.Size;
        return offset > size ? (BusErrors.OffsetOutOfRange(offset, size), null) : (null, chunk);
    }

    public static async Task WriteAsync(HttpContext http, Chunk chunk, long offset, int maxBytes)
    {
        try
        {
            await chunk.EnsureReadableAsync(http.RequestAborted);
        }
        catch (ArchiveUnavailableException)
        {
            await BusErrors.ArchiveUnavailable(chunk.Category, chunk.Name).ExecuteAsync(http);
            return;
        }
        catch (ArchiveNotFoundException)
        {
            await BusErrors.ArchiveMissing(chunk.Category, chunk.Name).ExecuteAsync(http);
            return;
        }
        http.Response.ContentType = "application/octet-stream";
        if (ChunkReader.PlanEnd(chunk, offset, maxBytes) is { } end)
        {
            // Whole messages end before `end`: stream them straight from the file, no intermediate buffer.
            http.Response.Headers[BusHeaders.NextOffset] = end.ToString(CultureInfo.InvariantCulture);
            http.Response.ContentLength = end - offset;
            if (end > offset)
                await ChunkReader.CopyToAsync(chunk, offset, end, http.Response.BodyWriter, http.RequestAborted);
            return;
        }
        using var slice = ChunkReader.Read(chunk, offset, maxBytes); // one message longer than the tail window
        http.Response.Headers[BusHeaders.NextOffset] = slice.NextOffset.ToString(CultureInfo.InvariantCulture);
        http.Response.ContentLength = slice.Memory.Length;
        await http.Response.Body.WriteAsync(slice.Memory, http.RequestAborted);
    }
}
