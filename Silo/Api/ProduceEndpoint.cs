using OrleansBus.Contracts;
using OrleansBus.Silo.Hosting;
using OrleansBus.Silo.Storage;

namespace OrleansBus.Silo.Api;

/// <summary>
/// <c>POST /v1/categories/{c}/messages?durability=</c>: validates the name, the query and the whole body
/// before anything is written, hands the batch to the category's writer, and answers where it landed and
/// which guarantee was met. ProduceEndpoint → LogStore/CategoryLog → ChunkWriter → chunk file + index.
/// </summary>
public static class ProduceEndpoint
{
    public static async Task<IResult> HandleAsync(HttpContext http, string category, LogStore store, Replication.Replicator replicator, Microsoft.Extensions.Options.IOptions<BusOptions> options)
    {
        if (!CategoryName.IsValid(category))
            return BusErrors.InvalidCategoryName(category);
        var durabilityText = http.Request.Query["durability"].ToString();
        Durability? requested = null;
        if (durabilityText.Length > 0)
        {
            if (!DurabilityNames.TryParse(durabilityText, out var parsed))
                return BusErrors.InvalidArgument("durability", durabilityText, "one of page-cache, fsync");
            requested = parsed;
        }
        var replicasText = http.Request.Query["min_sync_replicas"].ToString();
        var replicas = 0;
        if (replicasText.Length > 0)
        {
            if (!int.TryParse(replicasText, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out replicas))
                return BusErrors.InvalidArgument("min_sync_replicas", replicasText, "a non-negative integer");
            // Refused before anything is written: fewer peers are live (or configured) than the batch must reach.
            var available = replicator.AvailableReplicas;
            if (replicas > available)
                return BusErrors.NotEnoughReplicas(replicas, available);
        }
        if (!store.IsReady)
            return BusErrors.NotReady();

        var limits = options.Value;
        var contentLength = http.Request.ContentLength;
        if (contentLength > limits.MaxRequestBytes)
            return BusErrors.RequestTooLarge(contentLength.Value, limits.MaxRequestBytes);

        using var batch = await ProduceBatch.ReadAsync(http.Request.BodyReader, limits.MaxMessageBytes, limits.MaxRequestBytes, http.RequestAborted);
        switch (batch.Error)
        {
            case BatchError.Empty:
                return BusErrors.EmptyBody();
            case BatchError.MissingTrailingNewline:
                return BusErrors.MissingTrailingNewline(batch.ErrorMessageNumber);
            case BatchError.MessageTooLarge:
                return BusErrors.MessageTooLarge(batch.ErrorMessageNumber, batch.ErrorValue, limits.MaxMessageBytes);
            case BatchError.RequestTooLarge:
                return BusErrors.RequestTooLarge(batch.ErrorValue, limits.MaxRequestBytes);
        }

        var existed = store.Find(category) is not null;
        CategoryLog? log = null;
        try
        {
            log = await store.GetOrCreateAsync(category, http.RequestAborted);
            var durability = requested ?? (log.Settings.DefaultDurability == DurabilityNames.Fsync ? Durability.Fsync : Durability.PageCache);
            var result = await log.Writer.AppendAsync(new AppendRequest(batch.Body, batch.Messages, batch.Crc, durability == Durability.Fsync));
            var met = result.Synced ? DurabilityNames.Fsync : DurabilityNames.PageCache;
            if (replicas > 0)
            {
                var chunk = log.FindChunk(result.Chunk);
                var held = chunk is null ? 0 : await replicator.WaitAsync(chunk, result.Offset + result.Length, replicas, limits.ReplicationTimeout, http.RequestAborted);
                if (held < replicas)
                    return BusErrors.ReplicationTimeout(category, result.Chunk, result.Offset, held, replicas, limits.ReplicationTimeout);
                met = $"replicas:{held}";
            }
            return Results.Json(
                new ProduceResult(category, result.Chunk, result.Offset, result.Length, result.Messages, met),
                BusJsonContext.Default.ProduceResult);
        }
        catch (Exception e) when (e is DiskFullException || (e is IOException io && NativeFile.IsDiskFull(io)))
        {
            if (!existed && log is not null)
                await store.RemoveIfEmptyAsync(log);
            return BusErrors.DiskFull(e.Message);
        }
    }
}
