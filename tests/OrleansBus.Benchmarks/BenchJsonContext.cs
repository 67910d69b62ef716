using System.Text.Json.Serialization;
using OrleansBus.Contracts;

namespace OrleansBus.Benchmarks;

/// <summary>The <c>--json</c> file: the settings that shape the numbers, then one entry per timed phase.</summary>
internal sealed record BenchReport(string Url, string Mode, string Category, string Durability, int MessageBytes,
    int BatchBytes, int ReadBytes, int Connections, int[] Consumers, int Rate, PhaseResult[] Phases, bool Succeeded);

/// <summary>Source-generated serializers: no reflection per request; the wire types carry their own names.</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, WriteIndented = true)]
[JsonSerializable(typeof(ProduceResult))]
[JsonSerializable(typeof(ChunkInfo[]))]
[JsonSerializable(typeof(AckRequest))]
[JsonSerializable(typeof(GroupInfo))]
[JsonSerializable(typeof(BenchReport))]
internal sealed partial class BenchJsonContext : JsonSerializerContext;
