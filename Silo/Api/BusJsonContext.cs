using System.Text.Json.Serialization;
using OrleansBus.Contracts;

namespace OrleansBus.Silo.Api;

/// <summary>Source-generated JSON for the wire types: no reflection on the request path.</summary>
[JsonSerializable(typeof(BusProblem))]
[JsonSerializable(typeof(ProduceResult))]
[JsonSerializable(typeof(ChunkInfo[]))]
[JsonSerializable(typeof(CategoryInfo))]
[JsonSerializable(typeof(CategoryInfo[]))]
[JsonSerializable(typeof(CategorySettingsUpdate))]
[JsonSerializable(typeof(PollResult))]
[JsonSerializable(typeof(AckRequest))]
[JsonSerializable(typeof(NackRequest))]
[JsonSerializable(typeof(SeekRequest))]
[JsonSerializable(typeof(GroupInfo))]
[JsonSerializable(typeof(long))]
[JsonSerializable(typeof(int))]
[JsonSerializable(typeof(string))]
public sealed partial class BusJsonContext : JsonSerializerContext;
