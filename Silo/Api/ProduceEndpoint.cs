using OrleansBus.Contracts;
using OrleansBus.Contracts.Grains;
using OrleansBus.Silo.Hosting;
using OrleansBus.Silo.Storage;

namespace OrleansBus.Silo.Api;

/// <summary>
/// <c>POST /v1/categories/{c}/messages?durability=</c>: validates the name, the query and the whole body
/// before anything is written, hands the batch to this silo's chunk grain of the category, and answers where it landed and
/// which guarantee was met. ProduceEndpoint → ChunkWriterGrain → CategoryLog → ChunkWriter → chunk file + index.
/// </summary>
public static class ProduceEndpoint
{
    public static async Task<IResult> HandleAsync(
        HttpContext http, string category, LogStore store, Replication.Replicator replicator, IGrainFactory grains, Microsoft.Extensions.Options.IOptions<BusOptions> options)
    {
        if (!CategoryName.IsValid(category))
            return BusErrors.InvalidCategoryName(category);
        var query = http.Request.Query;
        if (RequestArguments.CheckProduce(name => query[name].ToString()) is { } badArgument)
            return BusErrors.Problem(badArgument);
        Durability? requested = DurabilityNames.TryParse(query["durability"].ToString(), out var parsed) ? parsed : null;
        var replicasText = query["min_sync_replicas"].ToString();
        var replicas = replicasText.Length == 0 ? 0 : int.Parse(replicasText, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture);
        if (CheckTarget(replicas, store, replicator) is { } refused)
            return refused;

        var limits = options.Value;
        var contentLength = http.Request.ContentLength;
        if (contentLength > limits.MaxRequestBytes)
            return BusErrors.RequestTooLarge(contentLength.Value, limits.MaxRequestBytes);

        using var batch = await ProduceBatch.ReadAsync(http.Request.BodyReader, limits.MaxMessageBytes, limits.MaxRequestBytes, http.RequestAborted);
        var fsync = requested switch
        {
            Durability.Fsync => true,
            Durability.PageCache => false,
            _ => (bool?)null,
        };
        return CheckBatch(batch, limits) ?? await AppendAsync(category, batch, fsync, replicas, store.SiloId, grains, limits);
    }

    /// <summary>Refusals before the body is read: more sync replicas than are available, or a silo not ready. Nothing is written.</summary>
    internal static IResult? CheckTarget(int replicas, LogStore store, Replication.Replicator replicator)
    {
        if (replicas < 0)
            return BusErrors.InvalidArgument("min_sync_replicas", replicas.ToString(System.Globalization.CultureInfo.InvariantCulture), "a non-negative integer");
        // Refused before anything is written: fewer peers are live (or configured) than the batch must reach.
        var available = replicator.AvailableReplicas;
        if (replicas > available)
            return BusErrors.NotEnoughReplicas(replicas, available);
        return store.IsReady ? null : BusErrors.NotReady();
    }

    /// <summary>The refusal of a body that breaks a rule (empty, no trailing newline, too large), or null.</summary>
    internal static IResult? CheckBatch(ProduceBatch batch, BusOptions limits) => batch.Error switch
    {
        BatchError.Empty => BusErrors.EmptyBody(),
        BatchError.MissingTrailingNewline => BusErrors.MissingTrailingNewline(batch.ErrorMessageNumber),
        BatchError.MessageTooLarge => BusErrors.MessageTooLarge(batch.ErrorMessageNumber, batch.ErrorValue, limits.MaxMessageBytes),
        BatchError.RequestTooLarge => BusErrors.RequestTooLarge(batch.ErrorValue, limits.MaxRequestBytes),
        _ => null,
    };

    /// <summary>
    /// Hands a validated batch to this silo's own chunk grain of the category, in-silo: the body stays in the caller's
    /// buffers (LocalBatch is immutable, so the call passes it by reference) until the writer has written it.
    /// </summary>
    internal static async Task<IResult> AppendAsync(string category, ProduceBatch batch, bool? fsync, int replicas, string siloId, IGrainFactory grains, BusOptions limits)
    {
        var writer = grains.GetGrain<IChunkWriterGrain>(GrainKeys.ChunkWriter(category, siloId));
        var local = new LocalBatch(batch.Body, batch.Messages, batch.Crc, System.Diagnostics.Activity.Current?.Context ?? default);
        // The writer is on this silo, but finding it goes through the grain directory, part of which a dead peer held.
        var outcome = await RejectedCallRetry.RunAsync(() => writer.AppendAsync(local, new AppendOptions(fsync, replicas)));
        return outcome.Status switch
        {
            AppendStatus.Ok => Results.Json(
                new ProduceResult(category, outcome.Chunk, outcome.Offset, outcome.Length, outcome.Messages, outcome.Durability),
                BusJsonContext.Default.ProduceResult),
            AppendStatus.ReplicationTimeout => BusErrors.ReplicationTimeout(category, outcome.Chunk, outcome.Offset, outcome.ReplicasHeld, replicas, limits.ReplicationTimeout),
            AppendStatus.DiskFull => BusErrors.DiskFull(outcome.Detail ?? "No space left on device."),
            AppendStatus.Fenced => BusErrors.SiloFenced(category, outcome.Chunk, outcome.Offset),
            AppendStatus.CategoryDeleting => BusErrors.CategoryDeleting(category),
            _ => BusErrors.NotReady(),
        };
    }
}
