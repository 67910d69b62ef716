using System.Text.Json;
using System.Text.Json.Serialization;
using OrleansBus.Contracts;

namespace OrleansBus.Client;

/// <summary>A problem reply as the client reads it: every field optional, value and limit of any JSON type.</summary>
internal sealed record WireProblem(
    [property: JsonPropertyName("title")] string? Title,
    [property: JsonPropertyName("status")] int? Status,
    [property: JsonPropertyName("detail")] string? Detail,
    [property: JsonPropertyName("code")] string? Code,
    [property: JsonPropertyName("value")] JsonElement? Value,
    [property: JsonPropertyName("limit")] JsonElement? Limit);

/// <summary>Source-generated JSON for the wire types the client sends and reads: no reflection per request.</summary>
[JsonSerializable(typeof(WireProblem))]
[JsonSerializable(typeof(ProduceResult))]
[JsonSerializable(typeof(ChunkInfo[]))]
[JsonSerializable(typeof(CategoryInfo))]
[JsonSerializable(typeof(CategoryInfo[]))]
[JsonSerializable(typeof(CategorySettingsUpdate))]
[JsonSerializable(typeof(AckRequest))]
[JsonSerializable(typeof(NackRequest))]
[JsonSerializable(typeof(SeekRequest))]
[JsonSerializable(typeof(GroupInfo))]
[JsonSourceGenerationOptions(DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
internal sealed partial class BusClientJsonContext : JsonSerializerContext;
