using System.Text.Json.Serialization;
using OrleansBus.Contracts;

namespace OrleansBus.Benchmarks;

/// <summary>Source-generated (de)serializers for the replies the benchmark reads: no reflection per request.</summary>
[JsonSerializable(typeof(ProduceResult))]
[JsonSerializable(typeof(ChunkInfo[]))]
internal sealed partial class BenchJsonContext : JsonSerializerContext;
