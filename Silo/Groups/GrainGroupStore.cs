using OrleansBus.Contracts.Grains;
using OrleansBus.Silo.Metadata;
using OrleansBus.Silo.Cluster;

namespace OrleansBus.Silo.Groups;

/// <summary>
/// <see cref="IGroupStore"/> over the groups' <see cref="IConsumerGroupGrain"/>s. A call that fails (the grain's silo
/// went away, a state write failed, a timeout) surfaces as <see cref="MetadataStoreException"/>, which every caller
/// already treats as "group state unavailable, retry".
/// </summary>
public sealed class GrainGroupStore(IGrainFactory grains) : IGroupStore
{
    public async Task<GroupState> EnsureGroupAsync(string group, string category, string silo, string startKind, long nowMs, CancellationToken cancellationToken) =>
        ToState(await CallAsync(group, category, g => g.EnsureAsync(silo, startKind, nowMs)));

    public async Task<(GroupState State, IReadOnlyList<GroupChunkRow> Open)> ViewAsync(string group, string category, string silo, string startKind, long nowMs, CancellationToken cancellationToken)
    {
        var view = await CallAsync(group, category, g => g.ViewAsync(silo, startKind, nowMs));
        return (ToState(view.Group), Array.ConvertAll(view.Open, ToRow));
    }

    public async Task<bool> ExistsAsync(string group, string category, CancellationToken cancellationToken) =>
        await CallAsync(group, category, g => g.GetAsync("")) is not null;

    public async Task<int> SeekAsync(string group, string category, string kind, long timeMs, CancellationToken cancellationToken)
    {
        var generation = await CallAsync(group, category, g => g.SeekAsync(kind, timeMs));
        return generation >= 0 ? generation : throw new MetadataStoreException($"Group {group} on {category} does not exist.");
    }

    public Task MaterializeAsync(string group, string category, IReadOnlyList<GroupPosition> rows, CancellationToken cancellationToken) =>
        CallAsync(group, category, async g => { await g.MaterializeAsync(ToPositions(rows, keepSeek: true)); return true; });

    public async Task<IReadOnlyList<GroupChunkRow>> ListOpenAsync(string group, string category, CancellationToken cancellationToken) =>
        Array.ConvertAll(await CallAsync(group, category, g => g.ListOpenAsync()), ToRow);

    public async Task<GroupChunkRow?> GetAsync(string group, string category, string chunk, CancellationToken cancellationToken) =>
        await CallAsync(group, category, g => g.GetChunkAsync(chunk)) is { } row ? ToRow(row) : null;

    public Task<int?> TryLeaseAsync(string group, string category, string chunk, long expectedAcked, string token, string consumer,
        long leaseEnd, long leaseMessages, long expiresAtMs, long nowMs, CancellationToken cancellationToken) =>
        CallAsync(group, category, g => g.TryLeaseAsync(new LeaseRequest(chunk, expectedAcked, token, consumer, leaseEnd, leaseMessages, expiresAtMs, nowMs)));

    public Task<bool> AckAsync(string group, string category, string chunk, string token, long offset, long messages, bool release, CancellationToken cancellationToken) =>
        CallAsync(group, category, g => g.AckAsync(chunk, token, offset, messages, release), settles: true);

    public Task<bool> AckLeaseAsync(string group, string category, string chunk, string token, long? doneAtSize, CancellationToken cancellationToken) =>
        CallAsync(group, category, g => g.AckLeaseAsync(chunk, token, doneAtSize), settles: true);

    public Task<bool> NackAsync(string group, string category, string chunk, string token, long availableAtMs, string? reason, CancellationToken cancellationToken) =>
        CallAsync(group, category, g => g.NackAsync(chunk, token, availableAtMs, reason), settles: true);

    public Task<bool> SkipAsync(string group, string category, string chunk, string claim, long expectedAcked, long newOffset, CancellationToken cancellationToken) =>
        CallAsync(group, category, g => g.SkipAsync(chunk, claim, expectedAcked, newOffset), settles: true);

    public Task<long> SkipExpiredAsync(string group, string category, string chunk, long messages, CancellationToken cancellationToken) =>
        CallAsync(group, category, g => g.SkipExpiredAsync(chunk, messages));

    public Task MarkDoneAsync(string group, string category, string chunk, long sealedSize, CancellationToken cancellationToken) =>
        CallAsync(group, category, async g => { await g.MarkDoneAsync(chunk, sealedSize); return true; });

    public Task<bool> ResetAsync(string group, string category, string silo, IReadOnlyList<GroupPosition> rows, int appliedSeek, CancellationToken cancellationToken) =>
        CallAsync(group, category, g => g.ResetAsync(silo, ToPositions(rows, keepSeek: false), appliedSeek));

    /// <param name="settles">An ack, nack or skip under a lease: sent again only when Orleans refused it before any silo
    /// could run it. One whose silo died after it may have run is not: the new activation knows no lease and would answer
    /// "lease lost" for a range the first one already acknowledged, which then never comes again — the caller gets 503
    /// instead and, retrying, 409 (settled, or lost and delivered again).</param>
    private async Task<T> CallAsync<T>(string group, string category, Func<IConsumerGroupGrain, Task<T>> call, bool settles = false)
    {
        try
        {
            // Rejected before delivery (a peer died holding the grain or its directory entry): sent again, never twice applied.
            return await RejectedCallRetry.RunAsync(() => call(grains.GetGrain<IConsumerGroupGrain>(GrainKeys.ConsumerGroup(category, group))),
                retryable: settles ? RejectedCallRetry.NeverDelivered : null);
        }
        catch (Exception e) when (e is not MetadataStoreException and not OperationCanceledException)
        {
            throw new MetadataStoreException($"The state of group {group} on {category} is unavailable: {e.Message}", e);
        }
    }

    private static GroupState ToState(GroupSeekInfo info) =>
        new(info.AppliedSeek, info.Created, info.CreatedAtMs, info.SeekGeneration, info.SeekKind, info.SeekTimeMs, info.SkippedByRetention);

    private static GroupChunkPosition[] ToPositions(IReadOnlyList<GroupPosition> rows, bool keepSeek)
    {
        var positions = new GroupChunkPosition[rows.Count];
        for (var i = 0; i < rows.Count; i++)
        {
            var row = rows[i];
            positions[i] = new GroupChunkPosition(row.Chunk, row.Position, row.AckedOffset, row.AckedMessages, row.Done, keepSeek ? row.AppliedSeek : -1);
        }
        return positions;
    }

    private static GroupChunkRow ToRow(GroupChunk row) => new(
        row.Chunk, row.Position, row.AckedOffset, row.AckedMessages, row.Done, row.LeaseToken, row.LeaseConsumer, row.LeaseEnd,
        row.LeaseExpiresAtMs, row.DeliveryOffset, row.DeliveryCount, row.AvailableAtMs, row.LastReason, row.LeaseMessages);
}
