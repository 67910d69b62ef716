using System.Globalization;
using OrleansBus.Contracts;
using OrleansBus.Silo.Archive;
using OrleansBus.Silo.Storage;

namespace OrleansBus.Silo.Api;

/// <summary>
/// Writes a raw read (v1 and chukcha's /read): up to <c>maxBytes</c> from <c>offset</c>, cut to the last newline,
/// with <c>Bus-Next-Offset</c>. A chunk whose local copy was dropped is first fetched from the archive into the
/// cache; while the archive cannot be reached the reader gets 503 archive_unavailable (retry later), not a 500.
/// </summary>
internal static class ChunkResponse
{
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
