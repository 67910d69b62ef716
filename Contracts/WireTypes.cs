using System.Text.Json.Serialization;

namespace OrleansBus.Contracts;

/// <summary>Reply to a produce: where the batch landed and which guarantee was met.</summary>
/// <param name="Category">The category written to.</param>
/// <param name="Chunk">The chunk holding the whole batch (a batch never spans chunks).</param>
/// <param name="Offset">Byte offset of the batch's first message inside the chunk.</param>
/// <param name="Length">Length of the batch in bytes.</param>
/// <param name="Messages">Number of messages in the batch.</param>
/// <param name="Durability">The guarantee met: <c>page-cache</c>, <c>fsync</c> or <c>replicas:N</c>.</param>
public sealed record ProduceResult(
    [property: JsonPropertyName("category")] string Category,
    [property: JsonPropertyName("chunk")] string Chunk,
    [property: JsonPropertyName("offset")] long Offset,
    [property: JsonPropertyName("length")] long Length,
    [property: JsonPropertyName("messages")] int Messages,
    [property: JsonPropertyName("durability")] string Durability);

/// <summary>One chunk of a category, as listed by <c>GET /v1/categories/{c}/chunks</c>.</summary>
/// <param name="Name">Chunk name, <c>&lt;owner&gt;-chunk&lt;seq:000000000&gt;</c>.</param>
/// <param name="Owner">The silo that writes (wrote) the chunk.</param>
/// <param name="State"><c>active</c>, <c>sealed</c>, <c>archived</c>, <c>expired</c> or <c>corrupt</c>.</param>
/// <param name="Size">Readable size in bytes (final once sealed).</param>
/// <param name="Messages">Number of messages in the readable size.</param>
[GenerateSerializer, Immutable, Alias("orleansbus.ChunkInfo")]
public sealed record ChunkInfo(
    [property: Id(0), JsonPropertyName("name")] string Name,
    [property: Id(1), JsonPropertyName("owner")] string Owner,
    [property: Id(2), JsonPropertyName("state")] string State,
    [property: Id(3), JsonPropertyName("size")] long Size,
    [property: Id(4), JsonPropertyName("messages")] long Messages);

/// <summary>A category's settings, as read and written by <c>GET/PUT /v1/categories/{c}</c>.</summary>
/// <param name="Name">The category name.</param>
/// <param name="MaxChunkBytes">Size at which the active chunk is sealed.</param>
/// <param name="MaxChunkAgeMs">Age in milliseconds after which a non-empty active chunk is sealed.</param>
/// <param name="DefaultDurability">Durability of a produce that names none: <c>page-cache</c> or <c>fsync</c>.</param>
/// <param name="RetentionMs">Sealed chunks whose seal is older than this many milliseconds are deleted; 0 keeps them for ever.</param>
/// <param name="RetentionBytes">The oldest sealed chunks are deleted while the category holds more bytes than this; 0: no limit.</param>
/// <param name="Warning">Set on a reply to a change that was made but deserves a second look (absent otherwise).</param>
/// <param name="State"><c>live</c>, or <c>deleting</c> from <c>DELETE /v1/categories/{c}</c> until the deletion is done (then 404).</param>
/// <param name="Deletion">How far a deletion is (absent while live).</param>
[GenerateSerializer, Immutable, Alias("orleansbus.CategoryInfo")]
public sealed record CategoryInfo(
    [property: Id(0), JsonPropertyName("name")] string Name,
    [property: Id(1), JsonPropertyName("maxChunkBytes")] long MaxChunkBytes,
    [property: Id(2), JsonPropertyName("maxChunkAgeMs")] long MaxChunkAgeMs,
    [property: Id(3), JsonPropertyName("defaultDurability")] string DefaultDurability,
    [property: Id(4), JsonPropertyName("retentionMs")] long RetentionMs = 0,
    [property: Id(5), JsonPropertyName("retentionBytes")] long RetentionBytes = 0,
    [property: Id(6), JsonPropertyName("warning"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Warning = null,
    [property: Id(7), JsonPropertyName("state")] string State = CategoryStates.Live,
    [property: Id(8), JsonPropertyName("deletion"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] CategoryDeletionInfo? Deletion = null);

/// <summary>The states <see cref="CategoryInfo.State"/> names.</summary>
public static class CategoryStates
{
    /// <summary>Takes writes and reads.</summary>
    public const string Live = "live";

    /// <summary>Being deleted: writes answer 409 <c>category_deleting</c>; the category answers 404 once the deletion is done.</summary>
    public const string Deleting = "deleting";
}

/// <summary>A category deletion under way: what is left before the category is gone.</summary>
/// <param name="StartedAtMs">When the deletion started (Unix milliseconds).</param>
/// <param name="SilosPending">Live silos that have not yet stopped writing and deleted their files of the category.</param>
/// <param name="GroupsLeft">Consumer groups of the category not deleted yet.</param>
/// <param name="ChunksLeft">Chunks whose catalog rows (and blobs) are not deleted yet.</param>
[GenerateSerializer, Immutable, Alias("orleansbus.CategoryDeletionInfo")]
public sealed record CategoryDeletionInfo(
    [property: Id(0), JsonPropertyName("startedAtMs")] long StartedAtMs,
    [property: Id(1), JsonPropertyName("silosPending")] string[] SilosPending,
    [property: Id(2), JsonPropertyName("groupsLeft")] int GroupsLeft,
    [property: Id(3), JsonPropertyName("chunksLeft")] int ChunksLeft);

/// <summary>Body of <c>PUT /v1/categories/{c}</c>: every field is optional; missing ones keep their value.</summary>
/// <param name="MaxChunkBytes">Size at which the active chunk is sealed.</param>
/// <param name="MaxChunkAgeMs">Age in milliseconds after which a non-empty active chunk is sealed.</param>
/// <param name="DefaultDurability">Durability of a produce that names none.</param>
/// <param name="RetentionMs">Age retention in milliseconds; 0 turns it off.</param>
/// <param name="RetentionBytes">Size retention in bytes; 0 turns it off.</param>
[GenerateSerializer, Immutable, Alias("orleansbus.CategorySettingsUpdate")]
public sealed record CategorySettingsUpdate(
    [property: Id(0), JsonPropertyName("maxChunkBytes")] long? MaxChunkBytes,
    [property: Id(1), JsonPropertyName("maxChunkAgeMs")] long? MaxChunkAgeMs,
    [property: Id(2), JsonPropertyName("defaultDurability")] string? DefaultDurability,
    [property: Id(3), JsonPropertyName("retentionMs")] long? RetentionMs = null,
    [property: Id(4), JsonPropertyName("retentionBytes")] long? RetentionBytes = null);

/// <summary>An RFC 9457 problem document with the bus's stable error code and the failing value and limit.</summary>
/// <param name="Type">A URI naming the error kind.</param>
/// <param name="Title">Short summary.</param>
/// <param name="Status">HTTP status code.</param>
/// <param name="Detail">What failed, with the value and the limit.</param>
/// <param name="Code">Stable machine-readable code, for example <c>message_too_large</c>.</param>
/// <param name="Value">The value that failed, when there is one.</param>
/// <param name="Limit">The limit it broke, when there is one.</param>
public sealed record BusProblem(
    [property: JsonPropertyName("type")] string Type,
    [property: JsonPropertyName("title")] string Title,
    [property: JsonPropertyName("status")] int Status,
    [property: JsonPropertyName("detail")] string Detail,
    [property: JsonPropertyName("code")] string Code,
    [property: JsonPropertyName("value")] object? Value = null,
    [property: JsonPropertyName("limit")] object? Limit = null)
{
    /// <summary>Where every code's type URI starts; silos and the gateway both build problems with <see cref="Of"/>.</summary>
    public const string TypeBase = "https://orleansbus.dev/errors/";

    /// <summary>A problem whose type URI is the code's.</summary>
    public static BusProblem Of(int status, string code, string title, string detail, object? value = null, object? limit = null) =>
        new(TypeBase + code, title, status, detail, code, value, limit);
}

/// <summary>Header names of the public API.</summary>
public static class BusHeaders
{
    /// <summary>On a raw read and a poll: the offset after the returned bytes.</summary>
    public const string NextOffset = "Bus-Next-Offset";
    /// <summary>On a poll: the opaque delivery token to ack or nack with.</summary>
    public const string Delivery = "Bus-Delivery";
    /// <summary>On a poll: the chunk the messages come from.</summary>
    public const string Chunk = "Bus-Chunk";
    /// <summary>On a poll: the offset of the first returned message.</summary>
    public const string Offset = "Bus-Offset";
    /// <summary>On a poll: when the lease ends (RFC 3339); ack before then.</summary>
    public const string LeaseExpires = "Bus-Lease-Expires";
    /// <summary>On a poll: how many times this range has been delivered (1 on the first delivery).</summary>
    public const string DeliveryCount = "Bus-Delivery-Count";
}
