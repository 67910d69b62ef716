using Microsoft.Extensions.Options;
using Orleans.Concurrency;
using Orleans.Serialization.Buffers;
using OrleansBus.Contracts;
using OrleansBus.Contracts.Grains;
using OrleansBus.Silo.Api;
using OrleansBus.Silo.Groups;
using OrleansBus.Silo.Hosting;
using OrleansBus.Silo.Storage;

namespace OrleansBus.Silo.Grains;

/// <summary>
/// <see cref="IBusEdgeGrain"/>: the HTTP API's produce, poll, ack and nack for Orleans clients, through the same checks
/// (<see cref="ProduceEndpoint"/>, <see cref="GroupEndpoints"/>) and the same engine, answering the same error catalogue
/// as <see cref="BusFault"/>s. A stateless worker, so it runs on the silo that received the call and appends to that
/// silo's own chunk grain; one activation per key and silo, reentrant (a long poll must not hold up the produces behind it).
/// </summary>
[StatelessWorker(1)]
[Reentrant]
internal sealed class BusEdgeGrain(
    LogStore store, Replication.Replicator replicator, ConsumerGroups groups, Cluster.ClusterReads reads, IGrainFactory grains, IOptions<BusOptions> options,
    [FromKeyedServices(Metadata.CatalogStore.DatabaseKey)] Metadata.IMetadataStore database) : Grain, IBusEdgeGrain
{
    public async Task<EdgeProduceReply> ProduceAsync(string category, PooledBuffer batch, EdgeProduceOptions produce)
    {
        try
        {
            var limits = options.Value;
            if (!CategoryName.IsValid(category))
                return Refused(BusErrors.InvalidCategoryName(category));
            if (ProduceEndpoint.CheckTarget(produce.MinSyncReplicas, store, replicator) is { } refused)
                return Refused(refused);
            using var checkedBatch = ProduceBatch.FromSequence(batch.AsReadOnlySequence(), limits.MaxMessageBytes, limits.MaxRequestBytes);
            var result = ProduceEndpoint.CheckBatch(checkedBatch, limits)
                ?? await ProduceEndpoint.AppendAsync(category, checkedBatch, produce.Fsync, produce.MinSyncReplicas, store.SiloId, grains, limits);
            return result is IValueHttpResult<ProduceResult> { Value: { } landed }
                ? new EdgeProduceReply(null, landed.Chunk, landed.Offset, landed.Length, landed.Messages, landed.Durability)
                : Refused(result);
        }
        catch (Exception e) when (GrainFailureTranslation.Translate(e) is { } unavailable)
        {
            return Refused(unavailable);
        }
        finally
        {
            batch.Dispose(); // the writer has written it (or nothing will): its buffers go back to the pool
        }
    }

    public async Task<EdgePollReply> PollAsync(EdgePollRequest request, CancellationToken cancellationToken)
    {
        try
        {
            var limits = options.Value;
            var (error, log) = await GroupEndpoints.ResolveAsync(request.Category, request.Group, store, cancellationToken);
            var maxBytes = request.MaxBytes ?? GroupEndpoints.DefaultMaxBytes;
            var maxMessages = request.MaxMessages ?? GroupEndpoints.DefaultMaxMessages;
            var leaseMs = request.LeaseMs ?? (int)limits.DefaultLease.TotalMilliseconds;
            error ??= GroupEndpoints.Range("max_bytes", maxBytes, 1, limits.MaxReadBytes)
                ?? GroupEndpoints.Range("max_messages", maxMessages, 1, int.MaxValue)
                ?? GroupEndpoints.Range("wait_ms", request.WaitMs, 0, EdgePollRequest.MaxWaitMs)
                ?? GroupEndpoints.Range("lease_ms", leaseMs, GroupEndpoints.MinLeaseMs, GroupEndpoints.MaxLeaseMs);
            var consumer = request.Consumer ?? "";
            if (error is null && consumer.Length > GroupEndpoints.MaxConsumerLength)
                error = BusErrors.InvalidArgument("consumer", consumer, $"at most {GroupEndpoints.MaxConsumerLength} characters");
            if (error is not null)
                return new EdgePollReply(BusErrors.ToFault(error), null);
            var poll = new PollRequest(request.Category, request.Group, consumer.Length == 0 ? "anonymous" : consumer, maxBytes, maxMessages,
                TimeSpan.FromMilliseconds(request.WaitMs), TimeSpan.FromMilliseconds(leaseMs), request.StartLatest);
            using var delivery = await groups.PollAsync(poll, log!, cancellationToken);
            if (delivery is null)
                return new EdgePollReply(null, null);
            return new EdgePollReply(null, new EdgeDelivery(delivery.Token, delivery.Chunk, delivery.Offset, delivery.NextOffset,
                delivery.LeaseExpiresAt.ToUnixTimeMilliseconds(), delivery.DeliveryCount, delivery.Data.Memory.ToArray()));
        }
        catch (Exception e) when (GrainFailureTranslation.Translate(e) is { } unavailable)
        {
            return new EdgePollReply(BusErrors.ToFault(unavailable), null);
        }
    }

    public async Task<BusFault?> AckAsync(string category, string group, string delivery, long? offset)
    {
        try
        {
            var (error, log) = await GroupEndpoints.ResolveAsync(category, group, store, CancellationToken.None);
            if (error is not null)
                return BusErrors.ToFault(error);
            if (string.IsNullOrEmpty(delivery))
                return BusErrors.ToFault(BusErrors.InvalidArgument("delivery", delivery, "the token of a delivery"));
            var outcome = await groups.AckAsync(log!, group, delivery, offset, CancellationToken.None);
            return outcome == SettleOutcome.Done ? null : BusErrors.ToFault(GroupEndpoints.Settled(outcome, delivery, offset));
        }
        catch (Exception e) when (GrainFailureTranslation.Translate(e) is { } unavailable)
        {
            return BusErrors.ToFault(unavailable);
        }
    }

    public async Task<BusFault?> NackAsync(string category, string group, string delivery, long delayMs, string? reason)
    {
        try
        {
            var (error, log) = await GroupEndpoints.ResolveAsync(category, group, store, CancellationToken.None);
            error ??= string.IsNullOrEmpty(delivery) ? BusErrors.InvalidArgument("delivery", delivery, "the token of a delivery") : null;
            error ??= GroupEndpoints.CheckNack(delayMs, reason);
            if (error is not null)
                return BusErrors.ToFault(error);
            var outcome = await groups.NackAsync(log!, group, delivery, TimeSpan.FromMilliseconds(delayMs), reason, CancellationToken.None);
            return outcome == SettleOutcome.Done ? null : BusErrors.ToFault(GroupEndpoints.Settled(outcome, delivery, null));
        }
        catch (Exception e) when (GrainFailureTranslation.Translate(e) is { } unavailable)
        {
            return BusErrors.ToFault(unavailable);
        }
    }

    public Task<EdgeReply<CategoryInfo[]>> ListCategoriesAsync() =>
        ReplyAsync<CategoryInfo[]>(() => CategoryEndpoints.ListAsync(store, database, CancellationToken.None));

    public Task<EdgeReply<CategoryInfo>> GetCategoryAsync(string category) =>
        ReplyAsync<CategoryInfo>(() => CategoryEndpoints.GetAsync(category, store, grains, CancellationToken.None));

    public Task<EdgeReply<CategoryInfo>> DeleteCategoryAsync(string category) =>
        ReplyAsync<CategoryInfo>(() => CategoryEndpoints.DeleteAsync(category, grains));

    public Task<EdgeReply<CategoryInfo>> PutCategoryAsync(string category, CategorySettingsUpdate update) =>
        ReplyAsync<CategoryInfo>(() => CategoryEndpoints.ApplySettingsAsync(category, update ?? new CategorySettingsUpdate(null, null, null), store, CancellationToken.None));

    public Task<EdgeReply<ChunkInfo[]>> ListChunksAsync(string category) =>
        ReplyAsync<ChunkInfo[]>(() => ChunkEndpoints.ListAsync(category, store, reads, CancellationToken.None));

    public Task<EdgeReply<GroupInfo>> GetGroupAsync(string category, string group) =>
        ReplyAsync<GroupInfo>(() => GroupEndpoints.GroupStatusAsync(category, group, store, groups, CancellationToken.None));

    public Task<EdgeReply<GroupInfo>> SeekAsync(string category, string group, SeekRequest seek) =>
        ReplyAsync<GroupInfo>(() => GroupEndpoints.ApplySeekAsync(category, group, seek ?? new SeekRequest(), store, groups, CancellationToken.None));

    /// <summary>Runs the HTTP API's own endpoint and hands back its value or its refusal; grain failures become the same 503s.</summary>
    private async Task<EdgeReply<T>> ReplyAsync<T>(Func<Task<IResult>> endpoint)
    {
        try
        {
            return BusErrors.ToReply<T>(await endpoint(), store.SiloId);
        }
        catch (Exception e) when (GrainFailureTranslation.Translate(e) is { } unavailable)
        {
            return new EdgeReply<T>(BusErrors.ToFault(unavailable), default, store.SiloId);
        }
    }

    private static EdgeProduceReply Refused(IResult error) => new(BusErrors.ToFault(error), "", 0, 0, 0, "");
}
