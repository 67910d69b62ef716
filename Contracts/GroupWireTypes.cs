using System.Text.Json.Serialization;

namespace OrleansBus.Contracts;

/// <summary>A poll reply when the client asks for <c>application/json</c>.</summary>
/// <param name="Delivery">Token to ack or nack with.</param>
/// <param name="Chunk">Chunk the messages come from.</param>
/// <param name="Offset">Offset of the first message.</param>
/// <param name="NextOffset">Offset after the last message.</param>
/// <param name="LeaseExpiresAt">When the lease ends.</param>
/// <param name="DeliveryCount">Deliveries of this range so far, this one included.</param>
/// <param name="Messages">The messages, without their newlines.</param>
public sealed record PollResult(
    [property: JsonPropertyName("delivery")] string Delivery,
    [property: JsonPropertyName("chunk")] string Chunk,
    [property: JsonPropertyName("offset")] long Offset,
    [property: JsonPropertyName("nextOffset")] long NextOffset,
    [property: JsonPropertyName("leaseExpiresAt")] DateTimeOffset LeaseExpiresAt,
    [property: JsonPropertyName("deliveryCount")] int DeliveryCount,
    [property: JsonPropertyName("messages")] IReadOnlyList<string> Messages);

/// <summary>Body of an ack: the delivery token, and optionally the offset (a message boundary inside the delivery) to acknowledge up to.</summary>
/// <param name="Delivery">The token from the poll.</param>
/// <param name="Offset">Acknowledge only up to here; the rest stays leased.</param>
public sealed record AckRequest(
    [property: JsonPropertyName("delivery")] string? Delivery,
    [property: JsonPropertyName("offset")] long? Offset = null);

/// <summary>Body of a nack: release the delivery now or after a delay.</summary>
/// <param name="Delivery">The token from the poll.</param>
/// <param name="DelayMs">Milliseconds before the range may be delivered again.</param>
/// <param name="Reason">Why; kept and written to the dead letter if the message ends there.</param>
public sealed record NackRequest(
    [property: JsonPropertyName("delivery")] string? Delivery,
    [property: JsonPropertyName("delayMs")] long DelayMs = 0,
    [property: JsonPropertyName("reason")] string? Reason = null);

/// <summary>Body of a seek: <c>{"position":"earliest"}</c>, <c>{"position":"latest"}</c> or <c>{"time":"2026-11-22T07:00:00Z"}</c>.</summary>
/// <param name="Position"><c>earliest</c> or <c>latest</c>.</param>
/// <param name="Time">Move to the first message appended at or after this time.</param>
[GenerateSerializer, Immutable, Alias("orleansbus.SeekRequest")]
public sealed record SeekRequest(
    [property: Id(0), JsonPropertyName("position")] string? Position = null,
    [property: Id(1), JsonPropertyName("time")] DateTimeOffset? Time = null);

/// <summary>A group's position in one chunk.</summary>
/// <param name="Chunk">Chunk name.</param>
/// <param name="AckedOffset">Acknowledged up to here.</param>
/// <param name="Size">The chunk's readable size.</param>
/// <param name="LagBytes">Bytes not yet acknowledged.</param>
/// <param name="LagMessages">Messages not yet acknowledged.</param>
/// <param name="LeaseConsumer">Consumer holding the lease, if any.</param>
/// <param name="LeaseExpiresAt">When that lease ends.</param>
/// <param name="DeliveryCount">Deliveries of the current range.</param>
[GenerateSerializer, Immutable, Alias("orleansbus.GroupChunkInfo")]
public sealed record GroupChunkInfo(
    [property: Id(0), JsonPropertyName("chunk")] string Chunk,
    [property: Id(1), JsonPropertyName("ackedOffset")] long AckedOffset,
    [property: Id(2), JsonPropertyName("size")] long Size,
    [property: Id(3), JsonPropertyName("lagBytes")] long LagBytes,
    [property: Id(4), JsonPropertyName("lagMessages")] long LagMessages,
    [property: Id(5), JsonPropertyName("leaseConsumer")] string? LeaseConsumer,
    [property: Id(6), JsonPropertyName("leaseExpiresAt")] DateTimeOffset? LeaseExpiresAt,
    [property: Id(7), JsonPropertyName("deliveryCount")] int DeliveryCount);

/// <summary>A group's lag in a category: totals, and per chunk not yet fully acknowledged.</summary>
/// <param name="Group">Group name.</param>
/// <param name="Category">Category name.</param>
/// <param name="LagBytes">Bytes behind.</param>
/// <param name="LagMessages">Messages behind.</param>
/// <param name="OldestUnackedAgeMs">Age of the oldest unacknowledged message, in milliseconds; null when none.</param>
/// <param name="Chunks">Per-chunk positions of chunks with anything left.</param>
/// <param name="SkippedByRetention">Messages the group never acknowledged before retention expired their chunks.</param>
[GenerateSerializer, Immutable, Alias("orleansbus.GroupInfo")]
public sealed record GroupInfo(
    [property: Id(0), JsonPropertyName("group")] string Group,
    [property: Id(1), JsonPropertyName("category")] string Category,
    [property: Id(2), JsonPropertyName("lagBytes")] long LagBytes,
    [property: Id(3), JsonPropertyName("lagMessages")] long LagMessages,
    [property: Id(4), JsonPropertyName("oldestUnackedAgeMs")] long? OldestUnackedAgeMs,
    [property: Id(5), JsonPropertyName("chunks")] IReadOnlyList<GroupChunkInfo> Chunks,
    [property: Id(6), JsonPropertyName("skippedByRetention")] long SkippedByRetention = 0);
