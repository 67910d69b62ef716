using System.Diagnostics;

namespace OrleansBus.Benchmarks;

/// <summary>Per-request latency percentiles, in milliseconds.</summary>
internal readonly record struct LatencySummary(double P50Ms, double P99Ms, double MaxMs);

/// <summary>
/// Records one worker's request latencies in <see cref="Stopwatch"/> ticks. Not thread-safe on purpose:
/// each worker owns one, so the hot loop takes no lock and shares no cache line; they are merged and
/// sorted once after the phase. Exact percentiles are affordable because requests are few (one per
/// batch or read, not per message).
/// </summary>
internal sealed class LatencyRecorder(int expectedRequests)
{
    private long[] _ticks = new long[Math.Max(16, expectedRequests)];
    private int _count;

    public void Record(long elapsedTicks)
    {
        // Growth is rare (the capacity is sized from the plan); reads of a message larger than max_bytes can exceed it.
        if (_count == _ticks.Length)
            Array.Resize(ref _ticks, _ticks.Length * 2);
        _ticks[_count++] = elapsedTicks;
    }

    public static LatencySummary Summarize(LatencyRecorder[] recorders)
    {
        var total = 0;
        foreach (var recorder in recorders)
            total += recorder._count;
        if (total == 0)
            return default;
        var all = new long[total];
        var at = 0;
        foreach (var recorder in recorders)
        {
            Array.Copy(recorder._ticks, 0, all, at, recorder._count);
            at += recorder._count;
        }
        Array.Sort(all);
        return new LatencySummary(ToMs(Percentile(all, 0.50)), ToMs(Percentile(all, 0.99)), ToMs(all[^1]));
    }

    // Nearest rank: the smallest sample with at least p of all samples at or below it.
    private static long Percentile(long[] sorted, double p) =>
        sorted[Math.Clamp((int)Math.Ceiling(p * sorted.Length) - 1, 0, sorted.Length - 1)];

    private static double ToMs(long ticks) => ticks * 1000.0 / Stopwatch.Frequency;
}
