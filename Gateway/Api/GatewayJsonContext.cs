using System.Text.Json.Serialization;
using OrleansBus.Contracts;

namespace OrleansBus.Gateway.Api;

/// <summary>One silo in <c>GET /gateway/silos</c>.</summary>
/// <param name="Id">Silo id in Orleans membership.</param>
/// <param name="Address">Base URL.</param>
/// <param name="Live">Whether requests go there now.</param>
/// <param name="Outstanding">Forwarded requests in flight there.</param>
public sealed record SiloListing(
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("address")] string Address,
    [property: JsonPropertyName("live")] bool Live,
    [property: JsonPropertyName("outstanding")] int Outstanding);

/// <summary>Source-generated JSON for what the gateway itself reads and writes (problems, the silo listing, the control calls' bodies and replies).</summary>
[JsonSerializable(typeof(BusProblem))]
[JsonSerializable(typeof(SiloListing[]))]
[JsonSerializable(typeof(CategoryInfo))]
[JsonSerializable(typeof(CategoryInfo[]))]
[JsonSerializable(typeof(CategorySettingsUpdate))]
[JsonSerializable(typeof(ChunkInfo[]))]
[JsonSerializable(typeof(GroupInfo))]
[JsonSerializable(typeof(AckRequest))]
[JsonSerializable(typeof(NackRequest))]
[JsonSerializable(typeof(SeekRequest))]
[JsonSerializable(typeof(int))]
[JsonSerializable(typeof(string))]
internal sealed partial class GatewayJsonContext : JsonSerializerContext;
