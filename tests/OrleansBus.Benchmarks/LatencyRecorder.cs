using System.Diagnostics;

namespace OrleansBus.Benchmarks;

/// <summary>Latency percentiles, in milliseconds: per request, or per message in the end-to-end phase.</summary>
internal readonly record struct LatencySummary(double P50, double P99, double P999, double Max);

/// <summary>
/// One worker's request latencies in <see cref="Stopwatch"/> ticks. Not thread-safe on purpose: each
/// worker owns one, so the hot loop takes no lock. Exact percentiles are affordable because samples
/// are few (one per batch or read; per message only in the rate-limited end-to-end phase); they are
/// merged and sorted once after the phase.
/// </summary>
internal sealed class LatencyRecorder(int expectedRequests)
{
    private long[] _ticks = new long[Math.Max(16, expectedRequests)];
    private int _count;

    public int Count => _count;

    public void Record(long elapsedTicks)
    {
        if (_count == _ticks.Length)
            Array.Resize(ref _ticks, _ticks.Length * 2);
        _ticks[_count++] = elapsedTicks;
    }

    public static LatencySummary Summarize(LatencyRecorder[] recorders)
    {
        var all = new List<long>();
        foreach (var r in recorders)
            all.AddRange(new ArraySegment<long>(r._ticks, 0, r._count));
        if (all.Count == 0)
            return default;
        all.Sort();
        return new LatencySummary(ToMs(Rank(all, 0.50)), ToMs(Rank(all, 0.99)), ToMs(Rank(all, 0.999)), ToMs(all[^1]));
    }

    // Nearest rank: the smallest sample with at least fraction p of all samples at or below it.
    private static long Rank(List<long> sorted, double p) => sorted[Math.Max(0, (int)Math.Ceiling(p * sorted.Count) - 1)];

    private static double ToMs(long ticks) => Math.Round(ticks * 1000.0 / Stopwatch.Frequency, 3);
}
