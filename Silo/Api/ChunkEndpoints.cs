using System.Globalization;
using OrleansBus.Contracts;
using OrleansBus.Silo.Hosting;
using OrleansBus.Silo.Metadata;
using OrleansBus.Silo.Storage;

namespace OrleansBus.Silo.Api;

/// <summary><c>GET /v1/categories/{c}/chunks</c> and the raw read <c>GET /v1/categories/{c}/chunks/{chunk}</c>.</summary>
public static class ChunkEndpoints
{
    public static async Task<IResult> ListAsync(string category, LogStore store, Cluster.ClusterReads reads, CancellationToken cancellationToken)
    {
        if (!CategoryName.IsValid(category))
            return BusErrors.InvalidCategoryName(category);
        var log = await store.FindOrOpenAsync(category, cancellationToken);
        if (log is null)
            return BusErrors.CategoryNotFound(category);
        // Every silo's chunks: sealed ones at the size the catalog recorded, active ones as their owners hold them now
        // (their new batches are pulled here, which the next read of them needs anyway).
        await reads.RefreshAsync(log, TimeSpan.FromMilliseconds(250), cancellationToken);
        await reads.CatchUpAllAsync(log, log.Chunks.Where(c => c.State == ChunkStates.Active), static _ => long.MaxValue, cancellationToken);
        var chunks = log.Chunks.ToArray();
        Array.Sort(chunks, static (a, b) => a.CreatedAt != b.CreatedAt ? a.CreatedAt.CompareTo(b.CreatedAt) : string.CompareOrdinal(a.Name, b.Name));
        var infos = new ChunkInfo[chunks.Length];
        for (var i = 0; i < chunks.Length; i++)
        {
            var c = chunks[i];
            infos[i] = new ChunkInfo(c.Name, c.Owner, c.State, c.KnownSize, c.KnownMessages);
        }
        return Results.Json(infos, BusJsonContext.Default.ChunkInfoArray);
    }

    public static async Task ReadAsync(HttpContext http, string category, string chunk, LogStore store, Cluster.ClusterReads reads, Microsoft.Extensions.Options.IOptions<BusOptions> options)
    {
        var error = Validate(http, category, chunk, options.Value, out var offset, out var maxBytes);
        Chunk? target = null;
        if (error is null)
            (error, target) = await ChunkResponse.LocateAsync(store, reads, category, chunk, offset, maxBytes, http.RequestAborted);
        if (error is not null)
        {
            await error.ExecuteAsync(http);
            return;
        }
        await ChunkResponse.WriteAsync(http, target!, offset, maxBytes);
    }

    private static IResult? Validate(HttpContext http, string category, string chunkName, BusOptions limits, out long offset, out int maxBytes)
    {
        offset = 0;
        maxBytes = 1024 * 1024;
        if (!CategoryName.IsValid(category))
            return BusErrors.InvalidCategoryName(category);
        if (!ChunkName.TryParse(chunkName, out _, out _))
            return BusErrors.InvalidChunkName(chunkName);
        var query = http.Request.Query;
        var offsetText = query["offset"].ToString();
        if (offsetText.Length > 0 && (!long.TryParse(offsetText, NumberStyles.None, CultureInfo.InvariantCulture, out offset)))
            return BusErrors.InvalidArgument("offset", offsetText, "a non-negative integer");
        var maxText = query["max_bytes"].ToString();
        if (maxText.Length > 0 && (!int.TryParse(maxText, NumberStyles.None, CultureInfo.InvariantCulture, out maxBytes) || maxBytes < 1 || maxBytes > limits.MaxReadBytes))
            return BusErrors.InvalidArgument("max_bytes", maxText, $"an integer from 1 to {limits.MaxReadBytes}");
        return null;
    }
}
