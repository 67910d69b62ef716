using OrleansBus.Contracts;

namespace OrleansBus.Benchmarks;

/// <summary>
/// Which phases run, in order: produce, read, one consume phase per --consumers value (each a fresh group), or
/// the end-to-end phase alone. A phase runs only after all before it succeeded: after a failure the totals
/// cannot match, so later phases would only measure a broken run.
/// </summary>
internal static class PhasePlan
{
    /// <summary>
    /// A warm-up always produces (even with --mode read or consume, whose category it must not touch), reads and
    /// consumes once when the run will (with e2e: consumes, to warm up the poll path), and prints nothing.
    /// </summary>
    public static async Task<List<PhaseResult>> RunAsync(
        HttpClient client, BenchOptions options, string category, long mib, bool isWarmup, CancellationToken ct)
    {
        var results = new List<PhaseResult>();
        ExpectedTotals? produced = null;
        if (options.Produces || isWarmup)
        {
            var produce = await new ProducePhase(client, options, category, mib).RunAsync("produce", ct);
            produced = new ExpectedTotals(produce.Messages, produce.Bytes);
            Add(results, produce, isWarmup);
        }
        if (options.Reads && Ok(results))
            Add(results, await new ReadPhase(client, options, category).RunAsync("read", produced, ct), isWarmup);
        if ((options.Consumes || (isWarmup && options.EndToEnd)) && Ok(results))
        {
            var expected = produced ?? ReadPhase.Totals(await ReadPhase.ListChunksAsync(client, category, ct));
            var read = results.Find(p => p.Name == "read");
            foreach (var consumers in isWarmup ? [options.Consumers.Max()] : options.Consumers)
            {
                if (!Ok(results))
                    break;
                var consume = await new ConsumePhase(options, category, consumers, expected).RunAsync($"consume-{consumers}", ct);
                Add(results, consume, isWarmup);
                if (!isWarmup && read is { MiBPerSecond: > 0 } && consume.Succeeded)
                    Console.WriteLine($"{"ratio",-10} {consume.Name} / read {consume.MiBPerSecond / read.MiBPerSecond:F2} " +
                        $"({consume.MiBPerSecond:F1} / {read.MiBPerSecond:F1} MiB/s)");
            }
        }
        if (options.EndToEnd && !isWarmup && Ok(results))
        {
            var e2e = new EndToEndPhase(options, category);
            var result = await e2e.RunAsync(ct);
            results.Add(result);
            Console.WriteLine(e2e.Describe(result));
        }
        return results;
    }

    /// <summary>The one-line summary: settings, each phase's rate and tail latency, and consume/read ratios.</summary>
    public static string Summary(BenchOptions options, List<PhaseResult> results)
    {
        var summary = $"summary: {options.Category} {options.MessageBytes} B messages, {options.RoundedBatchBytes} B batches, " +
            $"{options.Connections} conn, {options.Durability.ToWire()}";
        var read = results.Find(p => p.Name == "read");
        foreach (var p in results)
        {
            summary += p.Name == "e2e"
                ? $" | e2e {p.Messages}/{p.Requests} msgs at {options.Rate}/s p50 {p.LatencyMs.P50:F2} p99 {p.LatencyMs.P99:F2} p999 {p.LatencyMs.P999:F2} ms"
                : $" | {p.Name} {p.MiBPerSecond:F1} MiB/s {p.MessagesPerSecond:F0} msg/s p99 {p.LatencyMs.P99:F2} ms";
            if (p.Name.StartsWith("consume-", StringComparison.Ordinal) && read is { MiBPerSecond: > 0 } && p.Succeeded)
                summary += $" ({p.MiBPerSecond / read.MiBPerSecond:F2}x read)";
        }
        return summary;
    }

    private static bool Ok(List<PhaseResult> results) => results.TrueForAll(p => p.Succeeded);

    private static void Add(List<PhaseResult> results, PhaseResult result, bool isWarmup)
    {
        results.Add(result);
        if (!isWarmup)
            Console.WriteLine(result.Describe());
    }
}
