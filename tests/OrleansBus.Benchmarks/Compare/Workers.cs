using System.Diagnostics;

namespace OrleansBus.Benchmarks.Compare;

/// <summary>
/// Runs N blocking workers, each on its own thread (the clients block; thread-pool threads would starve), and
/// times them from start to the last one's end. The first exception cancels the others' token and is returned.
/// Workers must end by themselves: each loop is bounded by a count and a deadline.
/// </summary>
internal static class Workers
{
    public static (double Seconds, Exception? Error) Run(int count, Action<int, CancellationToken> body, CancellationToken interrupted)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(interrupted);
        Exception? first = null;
        var threads = new Thread[count];
        var started = Stopwatch.GetTimestamp();
        for (var i = 0; i < count; i++)
        {
            var index = i;
            threads[i] = new Thread(() =>
            {
                try
                {
                    body(index, stop.Token);
                }
#pragma warning disable CA1031 // every worker exception becomes the workload's reported failure
                catch (Exception e)
#pragma warning restore CA1031
                {
                    if (Environment.GetEnvironmentVariable("BENCH_DEBUG") is not null)
                        Console.Error.WriteLine(e);
                    Interlocked.CompareExchange(ref first, e, null);
                    stop.Cancel();
                }
            }) { IsBackground = true, Name = $"bench-worker-{i}" };
            threads[i].Start();
        }
        foreach (var t in threads)
            t.Join();
        return (Stopwatch.GetElapsedTime(started).TotalSeconds, first ?? (interrupted.IsCancellationRequested ? new OperationCanceledException("interrupted") : null));
    }
}
