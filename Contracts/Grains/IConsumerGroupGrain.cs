namespace OrleansBus.Contracts.Grains;

/// <summary>
/// One consumer group of one category, keyed <see cref="GrainKeys.ConsumerGroup"/>: its acknowledged offsets and
/// delivery counts per chunk of the working set (persisted grain state, ETag-checked), the watermark below which every
/// chunk is done, its seek generation, and the leases (in memory). It decides who may read which range and records what
/// was acknowledged; it never carries message bytes — the silo serving a poll reads them where they are and tells the
/// grain the range it leases. Every change is a compare-and-set on the grain's memory, so two consumers on any silos can
/// never both win a range; changes that must be durable are answered once the state write that carries them succeeded.
/// </summary>
[Alias("orleansbus.IConsumerGroupGrain")]
public interface IConsumerGroupGrain : IGrainWithStringKey
{
    /// <summary>Creates the group unless it exists (its start, <c>earliest</c> or <c>latest</c>, is seek generation 0); returns it as <paramref name="siloId"/> sees it.</summary>
    [Alias("ensure")]
    Task<GroupSeekInfo> EnsureAsync(string siloId, string startKind, long nowMs);

    /// <summary>
    /// What a poll needs in one call: the group (created unless it exists, as <see cref="EnsureAsync"/>) and its open
    /// chunks (as <see cref="ListOpenAsync"/>).
    /// </summary>
    [Alias("view")]
    Task<GroupView> ViewAsync(string siloId, string startKind, long nowMs);

    /// <summary>The group, or null when it does not exist.</summary>
    [Alias("info")]
    Task<GroupSeekInfo?> GetAsync(string siloId);

    /// <summary>Records a seek (<c>earliest</c>, <c>latest</c> or <c>time</c>) for every silo to apply; returns its generation, or -1 when the group does not exist.</summary>
    [Alias("seek")]
    Task<int> SeekAsync(string kind, long timeMs);

    /// <summary>Adds positions for chunks the group has not seen; chunks it has, or has finished and forgotten, are left as they are.</summary>
    [Alias("materialize")]
    Task MaterializeAsync(GroupChunkPosition[] rows);

    /// <summary>
    /// Applies seek <paramref name="appliedSeek"/> for <paramref name="siloId"/>: the given chunks are positioned anew (leases
    /// cleared) unless a row was already reset to that generation. False, and nothing changed, when the silo applied it before.
    /// </summary>
    [Alias("reset")]
    Task<bool> ResetAsync(string siloId, GroupChunkPosition[] rows, int appliedSeek);

    /// <summary>Chunks not done, in chunk order (position, then name), with their leases.</summary>
    [Alias("open")]
    Task<GroupChunk[]> ListOpenAsync();

    /// <summary>One chunk's row; null when the group has none (never seen, or finished and forgotten below the watermark).</summary>
    [Alias("chunk")]
    Task<GroupChunk?> GetChunkAsync(string chunk);

    /// <summary>Leases [expectedAcked, leaseEnd) if it is still free and unmoved; the delivery count, or null when another consumer won.</summary>
    [Alias("lease")]
    Task<int?> TryLeaseAsync(LeaseRequest request);

    /// <summary>Moves the acknowledged offset under the lease, answered once durable; false when the lease was lost.</summary>
    [Alias("ack")]
    Task<bool> AckAsync(string chunk, string token, long offset, long messages, bool release);

    /// <summary>
    /// Acknowledges a whole delivery: the offset moves to the lease's end, the lease is released, and the chunk is marked
    /// done when <paramref name="doneAtSize"/> (its final size, when sealed) is reached; answered once durable. False
    /// when the lease was lost.
    /// </summary>
    [Alias("ack-lease")]
    Task<bool> AckLeaseAsync(string chunk, string token, long? doneAtSize);

    /// <summary>Releases the lease; the range is available again at <paramref name="availableAtMs"/>. False when the lease was lost.</summary>
    [Alias("nack")]
    Task<bool> NackAsync(string chunk, string token, long availableAtMs, string? reason);

    /// <summary>Moves past a dead-lettered message under the claim taken for it, answered once durable; false when the claim was lost.</summary>
    [Alias("skip")]
    Task<bool> SkipAsync(string chunk, string claim, long expectedAcked, long newOffset);

    /// <summary>Marks a chunk done once it is sealed at <paramref name="sealedSize"/> and acknowledged to there.</summary>
    [Alias("done")]
    Task MarkDoneAsync(string chunk, long sealedSize);

    /// <summary>
    /// Retention expired <paramref name="chunk"/>: the group finishes it where it stands, releasing any lease, and adds what
    /// it had not acknowledged of <paramref name="messages"/> to its skipped-by-retention count (durable before the reply).
    /// Returns the messages skipped now (0 when the group had no open row for it).
    /// </summary>
    [Alias("skip-expired")]
    Task<long> SkipExpiredAsync(string chunk, long messages);

    /// <summary>
    /// Deletes the group with its category: its state (offsets, seeks, counts) is cleared in storage, its leases are
    /// forgotten and the activation ends. A later call finds no group (and may create it again only while the category lives).
    /// </summary>
    [Alias("delete")]
    Task DeleteAsync();

    /// <summary>Which silo hosts this activation (diagnostics and tests).</summary>
    [Alias("host")]
    Task<string> HostAsync();
}

/// <summary>A group as one silo sees it. <see cref="AppliedSeek"/> is -1 before the silo has applied any seek.</summary>
[GenerateSerializer, Immutable, Alias("orleansbus.GroupSeekInfo")]
public sealed record GroupSeekInfo(
    [property: Id(0)] bool Created,
    [property: Id(1)] long CreatedAtMs,
    [property: Id(2)] int SeekGeneration,
    [property: Id(3)] string SeekKind,
    [property: Id(4)] long SeekTimeMs,
    [property: Id(5)] int AppliedSeek,
    [property: Id(6)] long SkippedByRetention = 0);

/// <summary>A group as a silo sees it and its open chunks, in chunk order.</summary>
[GenerateSerializer, Immutable, Alias("orleansbus.GroupView")]
public sealed record GroupView([property: Id(0)] GroupSeekInfo Group, [property: Id(1)] GroupChunk[] Open);

/// <summary>Where a group stands in a chunk. <see cref="Position"/> orders chunks the same on every silo (creation time, Unix ms).</summary>
[GenerateSerializer, Immutable, Alias("orleansbus.GroupChunkPosition")]
public sealed record GroupChunkPosition(
    [property: Id(0)] string Chunk,
    [property: Id(1)] long Position,
    [property: Id(2)] long AckedOffset,
    [property: Id(3)] long AckedMessages,
    [property: Id(4)] bool Done,
    [property: Id(5)] int AppliedSeek);

/// <summary>
/// A group's row for one chunk: the acknowledged offset and the lease on the range after it (<see cref="LeaseToken"/>
/// null when none). <see cref="DeliveryCount"/> counts leases of the range starting at <see cref="DeliveryOffset"/>;
/// <see cref="LeaseMessages"/> is how many messages of the lease are not yet acknowledged.
/// </summary>
[GenerateSerializer, Immutable, Alias("orleansbus.GroupChunk")]
public sealed record GroupChunk(
    [property: Id(0)] string Chunk,
    [property: Id(1)] long Position,
    [property: Id(2)] long AckedOffset,
    [property: Id(3)] long AckedMessages,
    [property: Id(4)] bool Done,
    [property: Id(5)] string? LeaseToken,
    [property: Id(6)] string? LeaseConsumer,
    [property: Id(7)] long LeaseEnd,
    [property: Id(8)] long LeaseExpiresAtMs,
    [property: Id(9)] long DeliveryOffset,
    [property: Id(10)] int DeliveryCount,
    [property: Id(11)] long AvailableAtMs,
    [property: Id(12)] string? LastReason,
    [property: Id(13)] long LeaseMessages);

/// <summary>A lease asked for: [<see cref="ExpectedAcked"/>, <see cref="LeaseEnd"/>) of <see cref="Chunk"/>, holding <see cref="LeaseMessages"/> messages.</summary>
[GenerateSerializer, Immutable, Alias("orleansbus.LeaseRequest")]
public sealed record LeaseRequest(
    [property: Id(0)] string Chunk,
    [property: Id(1)] long ExpectedAcked,
    [property: Id(2)] string Token,
    [property: Id(3)] string Consumer,
    [property: Id(4)] long LeaseEnd,
    [property: Id(5)] long LeaseMessages,
    [property: Id(6)] long ExpiresAtMs,
    [property: Id(7)] long NowMs);
