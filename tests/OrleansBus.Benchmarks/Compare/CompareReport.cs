using System.Text.Json.Serialization;

namespace OrleansBus.Benchmarks.Compare;

/// <summary>The <c>compare --json</c> file: when and where, what each system promised, the machine's limits, the table and every raw result.</summary>
internal sealed record CompareReport(DateTimeOffset StartedAt, int Cores, long MemTotalKiB, Dictionary<string, string> Versions,
    Dictionary<string, string> PageCache, Dictionary<string, string> Fsync, MachineLimitsResult Limits,
    CompareRow[] Rows, WorkloadResult[] Results, bool Succeeded);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, WriteIndented = true,
    NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals)]
[JsonSerializable(typeof(CompareReport))]
internal sealed partial class CompareJsonContext : JsonSerializerContext;
