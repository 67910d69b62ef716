using System.Diagnostics;

namespace OrleansBus.Contracts.Grains;

/// <summary>
/// Retries a grain call that Orleans rejected. Right after a silo dies, calls that need its part of the grain directory,
/// an activation it held, or its Orleans gateway are rejected ("unable to connect") until membership declares it dead —
/// about 2 s with the silos' settings — and then resolve again. Used by the silos' produce path and the catalog and group
/// stores, through which every category and group grain call goes (without it a produce to a healthy silo answered 503
/// for those seconds only because another silo died), and by the gateway's control calls.
/// </summary>
public static class RejectedCallRetry
{
    /// <summary>Longest time spent retrying: past the death declaration, well inside a client's timeout.</summary>
    public static readonly TimeSpan Budget = TimeSpan.FromSeconds(4);

    /// <summary>
    /// Runs <paramref name="call"/>, again after a short growing pause each time it fails with an exception
    /// <paramref name="retryable"/> accepts (default: any <see cref="OrleansMessageRejectionException"/>), until
    /// <paramref name="budget"/> (default <see cref="Budget"/>) is spent; anything else passes on at once.
    /// </summary>
    public static async Task<T> RunAsync<T>(Func<Task<T>> call, TimeSpan? budget = null, Func<Exception, bool>? retryable = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(call);
        var limit = budget ?? Budget;
        var started = Stopwatch.GetTimestamp();
        var pause = TimeSpan.FromMilliseconds(50);
        while (true)
        {
            try
            {
                return await call();
            }
            catch (Exception e) when ((retryable?.Invoke(e) ?? e is OrleansMessageRejectionException)
                && Stopwatch.GetElapsedTime(started) + pause < limit && !cancellationToken.IsCancellationRequested)
            {
                await Task.Delay(pause, cancellationToken);
                pause = TimeSpan.FromMilliseconds(Math.Min(pause.TotalMilliseconds * 2, 500));
            }
        }
    }

    /// <summary>
    /// Whether Orleans refused <paramref name="e"/>'s call before any silo could run it: it could not connect or send. A
    /// <see cref="Orleans.Runtime.SiloUnavailableException"/> is not one: the silo may have run the call before it went away.
    /// </summary>
    public static bool NeverDelivered(Exception e) =>
        e is Orleans.Runtime.Messaging.ConnectionFailedException
        || (e is OrleansMessageRejectionException && e is not Orleans.Runtime.SiloUnavailableException);
}
