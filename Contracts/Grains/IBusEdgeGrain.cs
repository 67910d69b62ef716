using Orleans.Concurrency;
using Orleans.Serialization.Buffers;

namespace OrleansBus.Contracts.Grains;

/// <summary>
/// The bus's front door for Orleans clients (.NET services using <c>OrleansBusClient</c>, and the REST gateway): produce,
/// poll, ack, nack, listings, settings, lag and seek as grain calls, with the same validation and the same error codes as
/// the HTTP API. A stateless worker: each activation
/// runs on the silo whose Orleans gateway received the call, so a produced batch crosses the network once, into the silo
/// that writes it (its own chunk grain of the category). Clients spread calls over several keys; Orleans maps each key
/// to one gateway connection, so the keys spread over the silos. Refusals come back as a <see cref="BusFault"/>, never as
/// an exception; only a failure of the call itself (a silo gone, a timeout) throws.
/// </summary>
[Alias("orleansbus.IBusEdgeGrain")]
public interface IBusEdgeGrain : IGrainWithIntegerKey
{
    /// <summary>
    /// Validates and appends one batch of newline-terminated messages. The grain owns <paramref name="batch"/> from the
    /// call on and returns its buffers to the pool; the caller must not touch it again.
    /// </summary>
    [Alias("produce")]
    Task<EdgeProduceReply> ProduceAsync(string category, PooledBuffer batch, EdgeProduceOptions options);

    /// <summary>Leases the next range of one chunk to a consumer of a group, waiting up to <see cref="EdgePollRequest.WaitMs"/> (at most <see cref="EdgePollRequest.MaxWaitMs"/>).</summary>
    [Alias("poll")]
    Task<EdgePollReply> PollAsync(EdgePollRequest request, CancellationToken cancellationToken);

    /// <summary>Acknowledges a delivery (to <paramref name="offset"/>, a message boundary inside it, or whole when null); null when done.</summary>
    [Alias("ack")]
    Task<BusFault?> AckAsync(string category, string group, string delivery, long? offset);

    /// <summary>Gives a delivery back, available again after <paramref name="delayMs"/>; null when done.</summary>
    [Alias("nack")]
    Task<BusFault?> NackAsync(string category, string group, string delivery, long delayMs, string? reason);

    /// <summary>Every category of the cluster with its settings (<c>GET /v1/categories</c>).</summary>
    [Alias("list-categories")]
    Task<EdgeReply<CategoryInfo[]>> ListCategoriesAsync();

    /// <summary>One category's settings (<c>GET /v1/categories/{c}</c>).</summary>
    [Alias("get-category")]
    Task<EdgeReply<CategoryInfo>> GetCategoryAsync(string category);

    /// <summary>Creates a category or changes its settings; missing fields keep their value (<c>PUT /v1/categories/{c}</c>).</summary>
    [Alias("put-category")]
    Task<EdgeReply<CategoryInfo>> PutCategoryAsync(string category, CategorySettingsUpdate update);

    /// <summary><c>DELETE /v1/categories/{c}</c>: starts deleting the category (or reports the deletion under way).</summary>
    [Alias("delete-category")]
    Task<EdgeReply<CategoryInfo>> DeleteCategoryAsync(string category);

    /// <summary>Every chunk of a category, every silo's, oldest first (<c>GET /v1/categories/{c}/chunks</c>).</summary>
    [Alias("list-chunks")]
    Task<EdgeReply<ChunkInfo[]>> ListChunksAsync(string category);

    /// <summary>A group's lag in a category (<c>GET /v1/categories/{c}/groups/{g}</c>).</summary>
    [Alias("get-group")]
    Task<EdgeReply<GroupInfo>> GetGroupAsync(string category, string group);

    /// <summary>Moves a group to the earliest or latest message or to a time, and answers its lag after the move.</summary>
    [Alias("seek")]
    Task<EdgeReply<GroupInfo>> SeekAsync(string category, string group, SeekRequest seek);
}

/// <summary>A control call's answer: its <see cref="Value"/>, or why it was refused; <see cref="Silo"/> names the silo that served.</summary>
[GenerateSerializer, Immutable, Alias("orleansbus.EdgeReply`1")]
public sealed record EdgeReply<T>([property: Id(0)] BusFault? Fault, [property: Id(1)] T? Value, [property: Id(2)] string Silo);

/// <summary>What a produce must wait for: null <see cref="Fsync"/> means the category's default durability.</summary>
[GenerateSerializer, Immutable, Alias("orleansbus.EdgeProduceOptions")]
public sealed record EdgeProduceOptions([property: Id(0)] bool? Fsync, [property: Id(1)] int MinSyncReplicas);

/// <summary>Where a produced batch landed (<see cref="Fault"/> null), or why it was refused.</summary>
[GenerateSerializer, Immutable, Alias("orleansbus.EdgeProduceReply")]
public sealed record EdgeProduceReply(
    [property: Id(0)] BusFault? Fault,
    [property: Id(1)] string Chunk,
    [property: Id(2)] long Offset,
    [property: Id(3)] long Length,
    [property: Id(4)] int Messages,
    [property: Id(5)] string Durability);

/// <summary>A poll; null limits take the silo's defaults (as the HTTP API's omitted query parameters).</summary>
[GenerateSerializer, Immutable, Alias("orleansbus.EdgePollRequest")]
public sealed record EdgePollRequest(
    [property: Id(0)] string Category,
    [property: Id(1)] string Group,
    [property: Id(2)] string Consumer,
    [property: Id(3)] int? MaxBytes,
    [property: Id(4)] int? MaxMessages,
    [property: Id(5)] int WaitMs,
    [property: Id(6)] int? LeaseMs,
    [property: Id(7)] bool StartLatest)
{
    /// <summary>
    /// The longest wait one grain call may take: well inside Orleans' default 30 s response timeout, so a long poll ends
    /// with an answer (none came), not a timeout. Clients wanting longer waits poll again.
    /// </summary>
    public const int MaxWaitMs = 20_000;
}

/// <summary>A poll's answer: a delivery, nothing within the wait (both null), or a refusal.</summary>
[GenerateSerializer, Immutable, Alias("orleansbus.EdgePollReply")]
public sealed record EdgePollReply([property: Id(0)] BusFault? Fault, [property: Id(1)] EdgeDelivery? Delivery);

/// <summary>A leased range and its bytes (whole messages). Times are Unix milliseconds.</summary>
[GenerateSerializer, Immutable, Alias("orleansbus.EdgeDelivery")]
public sealed record EdgeDelivery(
    [property: Id(0)] string Token,
    [property: Id(1)] string Chunk,
    [property: Id(2)] long Offset,
    [property: Id(3)] long NextOffset,
    [property: Id(4)] long LeaseExpiresAtMs,
    [property: Id(5)] int DeliveryCount,
    [property: Id(6)] byte[] Data);

/// <summary>A refusal, exactly as the HTTP API would answer it: the status, the stable code, the detail, the value, the limit and the title.</summary>
[GenerateSerializer, Immutable, Alias("orleansbus.BusFault")]
public sealed record BusFault(
    [property: Id(0)] int Status,
    [property: Id(1)] string Code,
    [property: Id(2)] string Detail,
    [property: Id(3)] string? Value,
    [property: Id(4)] string? Limit,
    [property: Id(5)] string? Title = null);
