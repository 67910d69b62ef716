using System.Diagnostics;

namespace OrleansBus.Benchmarks.Compare;

/// <summary>
/// Workload (d): an <see cref="OpenLoopProducer"/> at --rate single messages a second, and one consumer on a group
/// created at the stream's end before producing, fetching with a long wait (ours: long-poll; Redis: XREADGROUP
/// BLOCK; NATS: pull request with expires) and acknowledging. Latency per message = receive time − the due time
/// stamped into it (same process, same clock). Every message acknowledged by the system must arrive; the consumer
/// stops when it has them all, or <see cref="Tail"/> after the producer finished.
/// </summary>
internal static class EndToEndWorkload
{
    private const int MaxMessagesPerFetch = 1000, MaxWaitMs = 1000;
    private static readonly TimeSpan Tail = TimeSpan.FromSeconds(5);

    public static WorkloadResult Run(IPeer peer, string stream, int rate, double seconds, int messageBytes, CancellationToken ct)
    {
        var group = "e2e" + Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(4));
        peer.CreateGroup(stream, group, fromStart: false);
        var producer = new OpenLoopProducer(peer, stream, rate, seconds, messageBytes);
        var latency = new LatencyRecorder((int)producer.Planned);
        var (received, bytes, malformed) = (0L, 0L, 0L);
        WorkloadResult? produced = null;
        var (_, error) = Workers.Run(2, (w, token) =>
        {
            if (w == 0)
            {
                produced = producer.Run("e2e-produce", token);
                return;
            }
            using var consumer = peer.OpenConsumer(stream, group, "e2e");
            while (!token.IsCancellationRequested)
            {
                var waitMs = MaxWaitMs;
                if (producer.DoneAt != 0)
                {
                    var left = Tail - Stopwatch.GetElapsedTime(producer.DoneAt);
                    if (received >= producer.Acked || left <= TimeSpan.Zero)
                        return;
                    waitMs = (int)Math.Clamp(left.TotalMilliseconds, 1, MaxWaitMs);
                }
                consumer.FetchAndAck(MaxMessagesPerFetch, BenchOptions.MiB, waitMs, message =>
                {
                    var now = Stopwatch.GetTimestamp();
                    (received, bytes) = (received + 1, bytes + message.Length);
                    if (Messages.TryReadTimestamp(message, out var due))
                        latency.Record(now - due);
                    else
                        malformed++;
                });
            }
        }, ct);
        var sent = producer.Acked;
        var failure = error?.Message ?? produced?.Failure
            ?? (received != sent || malformed > 0 ? $"received {received} of {sent} acknowledged messages ({malformed} malformed)" : null);
        var note = produced is null ? null : $"produce ack p99 {produced.LatencyMs.P99:F2} ms";
        return new WorkloadResult("e2e", peer.Name, received, bytes, produced?.Seconds ?? 0, LatencyRecorder.Summarize([latency]), failure, note);
    }
}
