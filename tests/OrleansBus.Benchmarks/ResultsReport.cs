using System.Text.Json;
using OrleansBus.Contracts;

namespace OrleansBus.Benchmarks;

/// <summary>The one-line summary and the optional <c>--json</c> file, both written after the last phase.</summary>
internal static class ResultsReport
{
    public static string Summary(BenchOptions options, IReadOnlyList<PhaseResult> phases)
    {
        var line = $"summary: {options.Category} {options.MessageBytes} B messages, {options.RoundedBatchBytes} B batches, " +
            $"{options.Connections} conn, {options.Durability.ToWire()}";
        var ok = true;
        foreach (var p in phases)
        {
            line += $" | {p.Name} {p.MiBPerSecond:F1} MiB/s {p.MessagesPerSecond:F0} msg/s p99 {p.Latency.P99Ms:F2} ms";
            ok &= p.Succeeded;
        }
        return line + (ok ? " | verification OK" : " | FAILED");
    }

    public static void WriteJson(string path, BenchOptions options, IReadOnlyList<PhaseResult> phases)
    {
        using var file = File.Create(path);
        using var json = new Utf8JsonWriter(file, new JsonWriterOptions { Indented = true });
        json.WriteStartObject();
        json.WriteString("url", options.Url.AbsoluteUri);
        json.WriteString("category", options.Category);
        json.WriteString("durability", options.Durability.ToWire());
        json.WriteNumber("messageBytes", options.MessageBytes);
        json.WriteNumber("batchBytes", options.RoundedBatchBytes);
        json.WriteNumber("readBytes", options.ReadBytes);
        json.WriteNumber("connections", options.Connections);
        var ok = true;
        json.WriteStartArray("phases");
        foreach (var p in phases)
        {
            ok &= p.Succeeded;
            json.WriteStartObject();
            json.WriteString("name", p.Name);
            json.WriteNumber("bytes", p.Bytes);
            json.WriteNumber("messages", p.Messages);
            json.WriteNumber("requests", p.Requests);
            json.WriteNumber("seconds", Math.Round(p.Seconds, 4));
            json.WriteNumber("mibPerSecond", Math.Round(p.MiBPerSecond, 2));
            json.WriteNumber("messagesPerSecond", Math.Round(p.MessagesPerSecond));
            json.WriteNumber("latencyP50Ms", Math.Round(p.Latency.P50Ms, 3));
            json.WriteNumber("latencyP99Ms", Math.Round(p.Latency.P99Ms, 3));
            json.WriteNumber("latencyMaxMs", Math.Round(p.Latency.MaxMs, 3));
            if (p.Failure is null)
                json.WriteNull("failure");
            else
                json.WriteString("failure", p.Failure);
            json.WriteEndObject();
        }
        json.WriteEndArray();
        json.WriteBoolean("succeeded", ok);
        json.WriteEndObject();
    }
}
