using System.Text.Json;
using System.Text.Json.Serialization;
using OrleansBus.Contracts;
using OrleansBus.Silo.Storage;

namespace OrleansBus.Silo.Groups;

/// <summary>What is written to "&lt;c&gt;.dead-letter": the message and where it came from.</summary>
public sealed record DeadLetter(
    [property: JsonPropertyName("category")] string Category,
    [property: JsonPropertyName("chunk")] string Chunk,
    [property: JsonPropertyName("offset")] long Offset,
    [property: JsonPropertyName("group")] string Group,
    [property: JsonPropertyName("deliveries")] int Deliveries,
    [property: JsonPropertyName("reason")] string? Reason,
    [property: JsonPropertyName("message")] string? Message,
    [property: JsonPropertyName("messageBase64")] string? MessageBase64);

[JsonSerializable(typeof(DeadLetter))]
[JsonSourceGenerationOptions(DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
internal sealed partial class DeadLetterJson : JsonSerializerContext;

public sealed partial class ConsumerGroups
{
    public const string DeadLetterSuffix = ".dead-letter";

    /// <summary>
    /// Claims the range (a lease, so concurrent polls on any silo cannot all dead-letter it), writes its first
    /// message to the dead-letter category (one JSON line, fsync), then moves the group past it under the claim.
    /// Written before moving on: a crash in between duplicates the dead letter once the claim expires, never loses it.
    /// Returns the row after the move, or null when another poll holds the range or there is no valid dead-letter name.
    /// </summary>
    private async Task<GroupChunkRow?> DeadLetterAsync(string group, CategoryLog log, Chunk chunk, GroupChunkRow row, CancellationToken cancellationToken)
    {
        var target = log.Name + DeadLetterSuffix;
        if (!CategoryName.IsValid(target))
        {
            Log.DeadLetterNameInvalid(logger, log.Name);
            return null;
        }
        using var first = ChunkReader.Read(chunk, row.AckedOffset, 1); // one whole message, however long
        var claim = DeliveryToken.NewLease();
        var claimed = await Groups.TryLeaseAsync(group, log.Name, chunk.Name, row.AckedOffset, claim, "dead-letter", first.NextOffset, 1,
            (time.GetUtcNow() + options.Value.DefaultLease).ToUnixTimeMilliseconds(), NowMs, cancellationToken);
        if (claimed is null)
            return null;
        var message = first.Memory.Span[..^1];
        string? text = null, base64 = null;
        try
        {
            text = new System.Text.UTF8Encoding(false, throwOnInvalidBytes: true).GetString(message);
        }
        catch (System.Text.DecoderFallbackException)
        {
            base64 = Convert.ToBase64String(message);
        }
        var letter = new DeadLetter(log.Name, chunk.Name, row.AckedOffset, group, row.DeliveryCount, row.LastReason, text, base64);
        var line = JsonSerializer.SerializeToUtf8Bytes(letter, DeadLetterJson.Default.DeadLetter);
        var batch = new byte[line.Length + 1];
        line.CopyTo(batch, 0);
        batch[^1] = (byte)'\n';
        var dlq = await store.GetOrCreateAsync(target, cancellationToken);
        await dlq.Writer.AppendAsync(new AppendRequest(batch, 1, Crc32C.Compute(batch), fsync: true));

        var next = first.NextOffset;
        if (!await Groups.SkipAsync(group, log.Name, chunk.Name, claim, row.AckedOffset, next, cancellationToken))
            return null;
        Log.DeadLettered(logger, group, log.Name, chunk.Name, row.AckedOffset, row.DeliveryCount);
        Telemetry.BusTelemetry.DeadLetters.Add(1, new System.Diagnostics.TagList { { "category", log.Name }, { "group", group } });
        return row with { AckedOffset = next, AckedMessages = row.AckedMessages + 1, DeliveryOffset = next, DeliveryCount = 0 };
    }
}
