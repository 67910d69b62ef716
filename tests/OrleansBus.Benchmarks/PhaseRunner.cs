using System.Diagnostics;
using System.Text.Json.Serialization;

namespace OrleansBus.Benchmarks;

/// <summary>What one worker counted: owned by that worker alone (no sharing on the hot loop), summed afterwards.</summary>
internal sealed class WorkerCounters
{
    public long Bytes, Messages, Requests;
    // Read phase: lines that are not one of our messages, sequence numbers seen twice, or never produced.
    public long Malformed, Duplicates, OutOfRange;

    public void Add(WorkerCounters o)
    {
        (Bytes, Messages, Requests) = (Bytes + o.Bytes, Messages + o.Messages, Requests + o.Requests);
        (Malformed, Duplicates, OutOfRange) = (Malformed + o.Malformed, Duplicates + o.Duplicates, OutOfRange + o.OutOfRange);
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

    public static async Task<string> DescribeAsync(HttpResponseMessage response, string during, CancellationToken ct)
    {
        var body = await response.Content.ReadAsStringAsync(ct);
        return $"{during}: HTTP {(int)response.StatusCode} {(body.Length > 500 ? body[..500] + "..." : body)}";
    }

    public void Dispose() => _stop.Dispose();
}

/// <summary>
/// Runs one worker loop per connection and times the phase from the first request to the last reply.
/// Workers must end by themselves (they draw work from a bounded counter); the first failure stops all.
/// </summary>
internal static class PhaseRunner
{
    public delegate Task Worker(WorkerCounters counters, LatencyRecorder latency, FirstFailure failure);

    public static async Task<PhaseResult> RunAsync(string name, int workers, long expectedRequests,
        Worker worker, Func<WorkerCounters, string?> verify, CancellationToken interrupted)
    {
        using var failure = new FirstFailure(interrupted);
        var counters = new WorkerCounters[workers];
        var recorders = new LatencyRecorder[workers];
        var tasks = new Task[workers];
        var started = Stopwatch.GetTimestamp();
        for (var i = 0; i < workers; i++)
        {
            var (mine, latency) = (counters[i] = new(), recorders[i] = new((int)Math.Min(expectedRequests / workers + 1, 1 << 20)));
            tasks[i] = Task.Run(() => RunOneAsync(name, worker, mine, latency, failure), CancellationToken.None);
        }
        await Task.WhenAll(tasks);
        var elapsed = Stopwatch.GetElapsedTime(started);
        var sum = new WorkerCounters();
        foreach (var c in counters)
            sum.Add(c);
        var problem = failure.Message ?? (interrupted.IsCancellationRequested ? "interrupted" : verify(sum));
        return new PhaseResult(name, sum.Bytes, sum.Messages, sum.Requests, elapsed.TotalSeconds,
            LatencyRecorder.Summarize(recorders), problem);
    }

    /// <summary>Runs one worker, turning any exception into the phase's failure; never throws.</summary>
    public static async Task RunOneAsync(string name, Worker worker, WorkerCounters counters, LatencyRecorder latency, FirstFailure failure)
    {
        try
        {
            await worker(counters, latency, failure);
        }
        catch (OperationCanceledException) when (failure.Token.IsCancellationRequested)
        {
            // Stopped because another worker failed or the user interrupted: that cause is reported already.
        }
#pragma warning disable CA1031 // Every worker exception becomes the phase's reported failure; nothing is swallowed.
        catch (Exception e)
#pragma warning restore CA1031
        {
            // HttpClient reports its own timeout as a cancellation; name it, or the cause is lost.
            failure.Report($"{name}: " + (e is OperationCanceledException ? "request timed out" : $"{e.GetType().Name}: {e.Message}"));
        }
    }
}

/// <summary>The outcome of one timed phase; <see cref="Failure"/> is null when every check passed.</summary>
internal sealed record PhaseResult(
    string Name, long Bytes, long Messages, long Requests, double Seconds, LatencySummary LatencyMs, string? Failure)
{
    public bool Succeeded => Failure is null;
    [JsonPropertyName("mibPerSecond")]
    public double MiBPerSecond => Seconds > 0 ? Bytes / (double)BenchOptions.MiB / Seconds : 0;
    public double MessagesPerSecond => Seconds > 0 ? Messages / Seconds : 0;

    public string Describe() =>
        $"{Name,-10} {Bytes / (double)BenchOptions.MiB,9:F1} MiB {Seconds,7:F2} s {MiBPerSecond,8:F1} MiB/s " +
        $"{MessagesPerSecond,10:F0} msg/s {Requests,6} req  latency ms p50 {LatencyMs.P50:F2} p99 {LatencyMs.P99:F2} " +
        $"max {LatencyMs.Max:F2}" + (Failure is null ? "" : $"\n  FAILED: {Failure}");
}
