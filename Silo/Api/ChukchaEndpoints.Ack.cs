using OrleansBus.Contracts;
using OrleansBus.Silo.Groups;
using OrleansBus.Silo.Storage;

namespace OrleansBus.Silo.Api;

public static partial class ChukchaEndpoints
{
    /// <summary>
    /// <c>/ack?category=&amp;chunk=&amp;size=</c>: the group <c>chukcha</c> is done with a complete chunk read to its
    /// size. 200 with an empty body, also when it was already acknowledged (a retry after a lost reply must not
    /// strand the client). Refused, with chukcha's 500, while the chunk is active or when <c>size</c> is short of it.
    /// </summary>
    public static async Task<IResult> AckAsync(HttpContext http, LogStore store, ConsumerGroups groups)
    {
        var query = http.Request.Query;
        var category = query["category"].ToString();
        if (!CategoryName.IsValid(category))
            return BusErrors.InvalidCategoryName(category);
        if (ChunkParameter(query, out var chunkName) is { } chunkError)
            return chunkError;
        if (RequiredNumber(query, "size", alias: null, max: long.MaxValue, out var size) is { } sizeError)
            return sizeError;
        if (!store.IsReady)
            return BusErrors.NotReady();
        var log = await store.FindOrOpenAsync(category, http.RequestAborted);
        if (log is null)
            return BusErrors.CategoryNotFound(category);
        var chunk = log.FindChunk(chunkName);
        if (chunk is null)
            return BusErrors.ChunkNotFound(category, chunkName);

        var outcome = await groups.AckWholeChunkAsync(log, ConsumerGroups.ChukchaGroup, chunk, size, http.RequestAborted);
        return outcome switch
        {
            WholeChunkAck.Acknowledged => Results.Ok(),
            WholeChunkAck.NotComplete => ChukchaErrors.NotComplete(chunkName),
            WholeChunkAck.NotFullyRead => ChukchaErrors.NotFullyRead(chunkName, size, chunk.FinalSize),
            WholeChunkAck.BeyondSize => ChukchaErrors.BeyondSize(chunkName, size, chunk.FinalSize),
            WholeChunkAck.Corrupt => BusErrors.ChunkCorrupt(chunkName, chunk.CorruptReason),
            _ => ChukchaErrors.Leased(chunkName),
        };
    }
}
