using System.Diagnostics;

namespace OrleansBus.Benchmarks.Compare;

/// <summary>
/// Workload (e): C consumers, each with its own connection, on one fresh group from the start of the stream that
/// (a) produced, fetch about 1 MiB at a time (no long wait) and acknowledge every delivery, until the group has
/// acknowledged every message (a) acknowledged. An empty fetch before the end backs off 1–16 ms (others hold the
/// remaining ranges). Bounded: the phase cap, and 30 s without any delivery, end it as a failure.
/// </summary>
internal static class ConsumeWorkload
{
    private static readonly TimeSpan NoProgressLimit = TimeSpan.FromSeconds(30);

    public static WorkloadResult Run(IPeer peer, string stream, int consumers, long expectedMessages, int messageBytes,
        TimeSpan maxDuration, CancellationToken ct)
    {
        var group = $"c{consumers}x" + Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(4));
        peer.CreateGroup(stream, group, fromStart: true);
        var (acked, bytes, lastProgress) = (0L, 0L, Stopwatch.GetTimestamp());
        var deadline = Stopwatch.GetTimestamp() + (long)(maxDuration.TotalSeconds * Stopwatch.Frequency);
        var recorders = new LatencyRecorder[consumers];
        var maxMessages = BenchOptions.MiB / messageBytes;
        var start = Stopwatch.GetTimestamp();
        var (_, error) = Workers.Run(consumers, (c, token) =>
        {
            var latency = recorders[c] = new LatencyRecorder(1024);
            using var consumer = peer.OpenConsumer(stream, group, $"c{c}");
            var (mine, myBytes, backoffMs) = (0L, 0L, 0);
            while (Volatile.Read(ref acked) < expectedMessages && !token.IsCancellationRequested)
            {
                if (Stopwatch.GetTimestamp() > deadline)
                    throw new TimeoutException($"consumed {Volatile.Read(ref acked)} of {expectedMessages} messages within the {maxDuration.TotalSeconds:F0} s cap");
                var started = Stopwatch.GetTimestamp();
                (mine, myBytes) = (0, 0);
                var got = consumer.FetchAndAck(maxMessages, BenchOptions.MiB, 0, message => (mine, myBytes) = (mine + 1, myBytes + message.Length));
                if (got == 0)
                {
                    if (Stopwatch.GetElapsedTime(Volatile.Read(ref lastProgress)) > NoProgressLimit)
                        throw new TimeoutException($"no delivery for {NoProgressLimit.TotalSeconds:F0} s at {Volatile.Read(ref acked)} of {expectedMessages}");
                    backoffMs = Math.Min(16, Math.Max(1, backoffMs * 2));
                    Thread.Sleep(backoffMs);
                    continue;
                }
                latency.Record(Stopwatch.GetTimestamp() - started);
                backoffMs = 0;
                Interlocked.Add(ref acked, got);
                Interlocked.Add(ref bytes, myBytes);
                Volatile.Write(ref lastProgress, Stopwatch.GetTimestamp());
            }
        }, ct);
        var failure = error?.Message ?? (acked != expectedMessages || bytes != expectedMessages * messageBytes
            ? $"acknowledged {acked} messages / {bytes} bytes; produced {expectedMessages} / {expectedMessages * messageBytes}" : null);
        // Up to the last acknowledgement: not the other consumers' final empty fetches.
        var seconds = (lastProgress - start) / (double)Stopwatch.Frequency;
        return new WorkloadResult($"consume-{consumers}", peer.Name, acked, bytes, seconds, LatencyRecorder.Summarize([.. recorders.Where(r => r is not null)]), failure);
    }
}
