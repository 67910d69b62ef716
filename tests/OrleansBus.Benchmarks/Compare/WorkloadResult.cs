namespace OrleansBus.Benchmarks.Compare;

/// <summary>
/// One workload on one system: totals, time and latency (ms). <see cref="Failure"/> set = the numbers are not
/// comparable (a request failed or not everything arrived); <see cref="Note"/> = comparable, with a caveat.
/// </summary>
internal sealed record WorkloadResult(string Workload, string System, long Messages, long Bytes, double Seconds,
    LatencySummary LatencyMs, string? Failure = null, string? Note = null)
{
    public bool Succeeded => Failure is null;
    public double MessagesPerSecond => Seconds > 0 ? Messages / Seconds : 0;
    public double MiBPerSecond => Seconds > 0 ? Bytes / (double)BenchOptions.MiB / Seconds : 0;

    public string Describe() =>
        $"{System,-10} {Workload,-10} {Messages,10} msgs {Bytes / (double)BenchOptions.MiB,8:F1} MiB {Seconds,6:F2} s {MessagesPerSecond,10:F0} msg/s " +
        $"{MiBPerSecond,7:F1} MiB/s  ms p50 {LatencyMs.P50:F2} p99 {LatencyMs.P99:F2} p999 {LatencyMs.P999:F2}" +
        (Note is null ? "" : $"  ({Note})") + (Failure is null ? "" : $"\n  FAILED: {Failure}");
}
