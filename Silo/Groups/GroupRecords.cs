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

/// <summary>A group as one silo sees it. <see cref="AppliedSeek"/> is -1 before the silo has positioned any of its chunks.</summary>
public sealed record GroupState(int Materialized, int AppliedSeek, bool Created, long CreatedAtMs, int SeekGeneration, string SeekKind, long SeekTimeMs);

/// <summary>
/// A chunk position to write for a group (materialising new chunks, or a seek). <see cref="Position"/> orders a
/// group's chunks the same way on every silo: the chunk's creation time in Unix milliseconds (ties by name).
/// </summary>
public readonly record struct GroupPosition(string Chunk, long Position, long AckedOffset, long AckedMessages, bool Done, int AppliedSeek = -1);

/// <summary>
/// Consumer-group state in the metadata store. Every state change is one conditional statement, so
/// any number of silos can serve one group: a lease is granted only if the range is still free and the
/// acknowledged offset is still the one the caller read (compare-and-set; on PostgreSQL the row is
/// picked with FOR UPDATE SKIP LOCKED so competing pollers move on instead of queueing); an ack or nack
/// applies only while the caller's lease token is the row's (fencing). Times are Unix milliseconds
/// passed by the caller's TimeProvider, so both backends behave identically and tests need no sleeps.
/// </summary>
public interface IGroupStore
{
    /// <summary>
    /// Creates the group if missing (its start, <c>earliest</c> or <c>latest</c>, is seek generation 0) and returns its
    /// state as <paramref name="silo"/> sees it: how many of the silo's chunks have rows (a per-silo watermark, so a silo
    /// only ever looks at chunks past it, never at the acknowledged history) and which seek the silo last applied.
    /// </summary>
    Task<GroupState> EnsureGroupAsync(string group, string category, string silo, string startKind, long nowMs, CancellationToken cancellationToken);

    /// <summary>Records a seek (<c>earliest</c>, <c>latest</c> or <c>time</c>) for every silo to apply; returns its generation.</summary>
    Task<int> SeekAsync(string group, string category, string kind, long timeMs, CancellationToken cancellationToken);

    /// <summary>Adds rows for chunks the group has not seen (existing rows are kept) and moves the silo's watermark.</summary>
    /// <summary>Names of every chunk the group has a row for (done or not): what a silo need not materialise again.</summary>
    Task<IReadOnlyList<string>> ListChunkNamesAsync(string group, string category, CancellationToken cancellationToken);

    Task MaterializeAsync(string group, string category, string silo, IReadOnlyList<GroupPosition> rows, int materialized, CancellationToken cancellationToken);

    /// <summary>Rows not yet done, in chunk order. Done chunks are never read again, so a long acknowledged history costs nothing.</summary>
    Task<IReadOnlyList<GroupChunkRow>> ListOpenAsync(string group, string category, CancellationToken cancellationToken);

    Task<GroupChunkRow?> GetAsync(string group, string category, string chunk, CancellationToken cancellationToken);

    /// <summary>Leases [ackedOffset, leaseEnd) if still free and unmoved; returns the delivery count, or null if another consumer won.</summary>
    Task<int?> TryLeaseAsync(string group, string category, string chunk, long expectedAcked, string token, string consumer,
        long leaseEnd, long leaseMessages, long expiresAtMs, long nowMs, CancellationToken cancellationToken);

    /// <summary>Moves the acknowledged offset to <paramref name="offset"/> under the lease; false when the lease was lost.</summary>
    Task<bool> AckAsync(string group, string category, string chunk, string token, long offset, long messages, bool release, CancellationToken cancellationToken);

    /// <summary>Releases the lease; the range is available again at <paramref name="availableAtMs"/>. False when the lease was lost.</summary>
    Task<bool> NackAsync(string group, string category, string chunk, string token, long availableAtMs, string? reason, CancellationToken cancellationToken);

    /// <summary>Moves past a dead-lettered poison message under the claim (a lease) taken before writing it; false if the claim was lost.</summary>
    Task<bool> SkipAsync(string group, string category, string chunk, string claim, long expectedAcked, long newOffset, CancellationToken cancellationToken);

    /// <summary>Marks a row done once its chunk is sealed and fully acknowledged.</summary>
    Task MarkDoneAsync(string group, string category, string chunk, long sealedSize, CancellationToken cancellationToken);

    /// <summary>
    /// Rewrites the group's rows for the silo's chunks, applying seek <paramref name="appliedSeek"/>, in one transaction;
    /// false (and nothing changed) when that generation was already applied for the silo.
    /// </summary>
    Task<bool> ResetAsync(string group, string category, string silo, IReadOnlyList<GroupPosition> rows, int appliedSeek, CancellationToken cancellationToken);

    Task<IReadOnlyList<string>> ListGroupsAsync(string category, CancellationToken cancellationToken);
}
