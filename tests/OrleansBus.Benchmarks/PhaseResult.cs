namespace OrleansBus.Benchmarks;

/// <summary>What one worker counted. Owned by that worker alone, summed after the phase.</summary>
internal sealed class WorkerCounters
{
    public long Bytes;
    public long Messages;
    public long Requests;
    // Read phase only: lines that are not one of our messages, sequence numbers seen twice or never planned.
    public long Malformed;
    public long Duplicates;
    public long OutOfRange;

    public static WorkerCounters Sum(WorkerCounters[] workers)
    {
        var sum = new WorkerCounters();
        foreach (var w in workers)
        {
            sum.Bytes += w.Bytes;
            sum.Messages += w.Messages;
            sum.Requests += w.Requests;
            sum.Malformed += w.Malformed;
            sum.Duplicates += w.Duplicates;
            sum.OutOfRange += w.OutOfRange;
        }
        return sum;
    }
}

/// <summary>
/// Keeps the first error of a phase and cancels the other workers: after one failed request the totals
/// can no longer match, so the phase stops instead of piling up errors. Thread-safe.
/// </summary>
internal sealed class FirstFailure(CancellationToken interrupted) : IDisposable
{
    private readonly CancellationTokenSource _stop = CancellationTokenSource.CreateLinkedTokenSource(interrupted);
    private string? _message;

    public CancellationToken Token => _stop.Token;
    public string? Message => Volatile.Read(ref _message);

    public void Report(string message)
    {
        Interlocked.CompareExchange(ref _message, message, null);
        _stop.Cancel();
    }

    /// <summary>Turns a worker's exception into the phase's failure; a stop caused elsewhere stays silent.</summary>
    public void Report(Exception exception, string during)
    {
        if (exception is OperationCanceledException && _stop.IsCancellationRequested)
            return;
        // HttpClient reports its own timeout as a cancellation; name it, or the cause is lost.
        var what = exception is OperationCanceledException ? "request timed out" : exception.Message;
        Report($"{during}: {exception.GetType().Name}: {what}");
    }

    public static async Task<string> DescribeAsync(HttpResponseMessage response, string during, CancellationToken ct)
    {
        var body = await response.Content.ReadAsStringAsync(ct);
        if (body.Length > 500)
            body = body[..500] + "...";
        return $"{during}: HTTP {(int)response.StatusCode} {body}";
    }

    public void Dispose() => _stop.Dispose();
}

/// <summary>The outcome of one timed phase. <see cref="Failure"/> is null when every check passed.</summary>
internal sealed record PhaseResult(
    string Name, long Bytes, long Messages, long Requests, TimeSpan Elapsed, LatencySummary Latency, string? Failure)
{
    public bool Succeeded => Failure is null;
    public double MiB => Bytes / (double)BenchOptions.MiB;
    public double Seconds => Elapsed.TotalSeconds;
    public double MiBPerSecond => Seconds > 0 ? MiB / Seconds : 0;
    public double MessagesPerSecond => Seconds > 0 ? Messages / Seconds : 0;

    public string Describe() =>
        $"{Name,-8} {MiB,10:F1} MiB {Seconds,8:F2} s {MiBPerSecond,9:F1} MiB/s {MessagesPerSecond,12:F0} msg/s " +
        $"{Requests,7} req  latency ms p50 {Latency.P50Ms:F2} p99 {Latency.P99Ms:F2} max {Latency.MaxMs:F2}" +
        (Failure is null ? "" : $"\n  FAILED: {Failure}");
}
