using System.Text.Json.Serialization;

namespace OrleansBus.Silo.Api;

/// <summary>
/// One entry of <c>/listChunks</c>, field for field what chukcha's client decodes (its <c>protocol.Chunk</c>).
/// </summary>
/// <param name="Name">Chunk name, <c>&lt;owner&gt;-chunk&lt;seq:000000000&gt;</c>: the shape chukcha's client parses into instance and index.</param>
/// <param name="Complete">False while the chunk is written to; true once its size is final (sealed or archived).</param>
/// <param name="Size">Readable size in bytes.</param>
public sealed record ChukchaChunk(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("complete")] bool Complete,
    [property: JsonPropertyName("size")] long Size);

/// <summary>Source-generated JSON for the chukcha-compatible replies.</summary>
[JsonSerializable(typeof(ChukchaChunk[]))]
[JsonSerializable(typeof(string[]))]
public sealed partial class ChukchaJsonContext : JsonSerializerContext;
