using System.Diagnostics;

namespace OrleansBus.Silo.Cluster;

/// <summary>
/// Retries a grain call that Orleans rejected before delivering it. Right after a silo dies, calls that need its part of
/// the grain directory (or an activation it held) are rejected with "unable to connect" until membership declares it
/// dead — about 2 s here (<see cref="Hosting.OrleansSetup.ConfigureMembership"/>) — and then resolve again. A rejected
/// message was never processed, so sending it again cannot apply anything twice; any other failure is passed on at once.
/// Without this, a produce to a healthy silo answered 503 for those seconds only because another silo died. Used by the
/// produce path and by the catalog and group stores, through which every category and group grain call goes.
/// </summary>
public static class RejectedCallRetry
{
    /// <summary>Longest time spent retrying: past the death declaration, well inside a client's timeout.</summary>
    public static readonly TimeSpan Budget = TimeSpan.FromSeconds(4);

    /// <summary>Runs <paramref name="call"/>, again after a short growing pause each time Orleans rejects it, until <paramref name="budget"/> (default <see cref="Budget"/>) is spent.</summary>
    public static async Task<T> RunAsync<T>(Func<Task<T>> call, TimeSpan? budget = null)
    {
        var limit = budget ?? Budget;
        var started = Stopwatch.GetTimestamp();
        var pause = TimeSpan.FromMilliseconds(50);
        while (true)
        {
            try
            {
                return await call();
            }
            catch (OrleansMessageRejectionException) when (Stopwatch.GetElapsedTime(started) + pause < limit)
            {
                await Task.Delay(pause);
                pause = TimeSpan.FromMilliseconds(Math.Min(pause.TotalMilliseconds * 2, 500));
            }
        }
    }
}
