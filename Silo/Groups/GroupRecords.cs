namespace OrleansBus.Silo.Groups;

/// <summary>
/// A group's position in one chunk: the acknowledged offset, and the lease on the range after it.
/// <see cref="LeaseExpiresAtMs"/> is 0 and <see cref="LeaseToken"/> null when nobody holds a lease.
/// <see cref="DeliveryCount"/> counts leases of the range starting at <see cref="DeliveryOffset"/>;
/// <see cref="LeaseMessages"/> is how many messages of the lease are not yet acknowledged (so a full ack need not recount them).
/// </summary>
public sealed record GroupChunkRow(
    string Chunk,
    long Position,
    long AckedOffset,
    long AckedMessages,
    bool Done,
    string? LeaseToken,
    string? LeaseConsumer,
    long LeaseEnd,
    long LeaseExpiresAtMs,
    long DeliveryOffset,
    int DeliveryCount,
    long AvailableAtMs,
    string? LastReason,
    long LeaseMessages = 0);

/// <summary>A group as one silo sees it. <see cref="AppliedSeek"/> is -1 before the silo has applied any seek.</summary>
public sealed record GroupState(int AppliedSeek, bool Created, long CreatedAtMs, int SeekGeneration, string SeekKind, long SeekTimeMs, long SkippedByRetention = 0);

/// <summary>
/// A chunk position to write for a group (materialising new chunks, or a seek). <see cref="Position"/> orders a
/// group's chunks the same way on every silo: the chunk's creation time in Unix milliseconds (ties by name).
/// </summary>
public readonly record struct GroupPosition(string Chunk, long Position, long AckedOffset, long AckedMessages, bool Done, int AppliedSeek = -1);

/// <summary>
/// Consumer-group state as the silo edge uses it: each group is a <see cref="Contracts.Grains.IConsumerGroupGrain"/>,
/// which decides every change by compare-and-set on its own memory (one activation per group), so any number of silos
/// can serve one group: a lease is granted only if the range is still free and the acknowledged offset is still the one
/// the caller read; an ack or nack applies only while the caller's lease token is the current one (fencing). Times are
/// Unix milliseconds from the caller's TimeProvider. A grain that cannot answer surfaces as
/// <see cref="Metadata.MetadataStoreException"/>.
/// </summary>
public interface IGroupStore
{
    /// <summary>Creates the group if missing (its start, <c>earliest</c> or <c>latest</c>, is seek generation 0) and returns it as <paramref name="silo"/> sees it.</summary>
    Task<GroupState> EnsureGroupAsync(string group, string category, string silo, string startKind, long nowMs, CancellationToken cancellationToken);

    /// <summary>The group (created if missing, as <see cref="EnsureGroupAsync"/>) and its open rows (as <see cref="ListOpenAsync"/>), in one call.</summary>
    Task<(GroupState State, IReadOnlyList<GroupChunkRow> Open)> ViewAsync(string group, string category, string silo, string startKind, long nowMs, CancellationToken cancellationToken);

    /// <summary>Whether the group exists (nothing is created by asking).</summary>
    Task<bool> ExistsAsync(string group, string category, CancellationToken cancellationToken);

    /// <summary>Records a seek (<c>earliest</c>, <c>latest</c> or <c>time</c>) for every silo to apply; returns its generation.</summary>
    Task<int> SeekAsync(string group, string category, string kind, long timeMs, CancellationToken cancellationToken);

    /// <summary>Adds rows for chunks the group has not seen; existing rows, and chunks it finished and forgot, are kept as they are.</summary>
    Task MaterializeAsync(string group, string category, IReadOnlyList<GroupPosition> rows, CancellationToken cancellationToken);

    /// <summary>Rows not yet done, in chunk order. Finished chunks are forgotten, so a long acknowledged history costs nothing.</summary>
    Task<IReadOnlyList<GroupChunkRow>> ListOpenAsync(string group, string category, CancellationToken cancellationToken);

    /// <summary>One chunk's row; null when the group has none (never seen, or finished and forgotten).</summary>
    Task<GroupChunkRow?> GetAsync(string group, string category, string chunk, CancellationToken cancellationToken);

    /// <summary>Leases [ackedOffset, leaseEnd) if still free and unmoved; returns the delivery count, or null if another consumer won.</summary>
    Task<int?> TryLeaseAsync(string group, string category, string chunk, long expectedAcked, string token, string consumer,
        long leaseEnd, long leaseMessages, long expiresAtMs, long nowMs, CancellationToken cancellationToken);

    /// <summary>Moves the acknowledged offset to <paramref name="offset"/> under the lease, once durable; false when the lease was lost.</summary>
    Task<bool> AckAsync(string group, string category, string chunk, string token, long offset, long messages, bool release, CancellationToken cancellationToken);

    /// <summary>
    /// Acknowledges a whole delivery (to the lease's end, releasing it), marking the chunk done when <paramref name="doneAtSize"/>
    /// is given and reached, once durable; false when the lease was lost.
    /// </summary>
    Task<bool> AckLeaseAsync(string group, string category, string chunk, string token, long? doneAtSize, CancellationToken cancellationToken);

    /// <summary>Releases the lease; the range is available again at <paramref name="availableAtMs"/>. False when the lease was lost.</summary>
    Task<bool> NackAsync(string group, string category, string chunk, string token, long availableAtMs, string? reason, CancellationToken cancellationToken);

    /// <summary>Moves past a dead-lettered poison message under the claim (a lease) taken before writing it; false if the claim was lost.</summary>
    Task<bool> SkipAsync(string group, string category, string chunk, string claim, long expectedAcked, long newOffset, CancellationToken cancellationToken);

    /// <summary>Finishes the row of a chunk retention expired, counting what the group had not acknowledged; returns that count.</summary>
    Task<long> SkipExpiredAsync(string group, string category, string chunk, long messages, CancellationToken cancellationToken);

    /// <summary>Marks a row done once its chunk is sealed and fully acknowledged.</summary>
    Task MarkDoneAsync(string group, string category, string chunk, long sealedSize, CancellationToken cancellationToken);

    /// <summary>
    /// Repositions the given chunks for seek <paramref name="appliedSeek"/> as <paramref name="silo"/> applies it; false (and
    /// nothing changed) when that silo applied that generation already.
    /// </summary>
    Task<bool> ResetAsync(string group, string category, string silo, IReadOnlyList<GroupPosition> rows, int appliedSeek, CancellationToken cancellationToken);
}
