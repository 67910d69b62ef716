using System.Collections.Concurrent;
using System.Diagnostics;

namespace OrleansBus.Benchmarks.Compare;

/// <summary>
/// Workload (c), and the producer of (d): single-message produce requests on an absolute schedule of --rate a
/// second. A scheduler thread releases each message at its due time to a queue; <see cref="Senders"/> threads, each
/// with its own connection, take the next one, stamp it with its due time and send it (open loop: a slow reply
/// delays no later send while a sender is free). Latency is counted from the due time, so time spent waiting for
/// a free sender or a late scheduler is included (no coordinated omission). The number of sends is fixed.
/// </summary>
internal sealed class OpenLoopProducer(IPeer peer, string stream, int rate, double seconds, int messageBytes)
{
    public const int Senders = 32;
    private long _acked, _doneAt;

    public long Planned { get; } = Math.Max(1, (long)(rate * seconds));
    public long Acked => Volatile.Read(ref _acked);
    /// <summary>Stopwatch timestamp when every send had finished; 0 while sending.</summary>
    public long DoneAt => Volatile.Read(ref _doneAt);

    public WorkloadResult Run(string workload, CancellationToken ct)
    {
        using var queue = new BlockingCollection<(long Sequence, long Due)>();
        var recorders = new LatencyRecorder[Senders];
        var interval = Stopwatch.Frequency / (double)rate;
        var origin = Stopwatch.GetTimestamp() + Stopwatch.Frequency / 10; // 100 ms for the senders to connect
        var scheduler = new Thread(() =>
        {
            for (var sequence = 0L; sequence < Planned && !ct.IsCancellationRequested; sequence++)
            {
                var due = origin + (long)(sequence * interval);
                // Whole-millisecond blocking waits wake within about 0.1 ms; Task.Delay is ms late on 2 cores.
                var waitMs = (int)Math.Round((due - Stopwatch.GetTimestamp()) * 1000.0 / Stopwatch.Frequency);
                if (waitMs > 0)
                    Thread.Sleep(waitMs);
                if (queue.IsAddingCompleted)
                    return; // the senders failed and closed the queue
                try
                {
                    queue.Add((sequence, due), CancellationToken.None);
                }
                catch (InvalidOperationException)
                {
                    return; // closed between the check and the Add
                }
            }
            queue.CompleteAdding();
        }) { IsBackground = true, Name = "bench-scheduler" };
        scheduler.Start();
        var (elapsed, error) = Workers.Run(Senders, (s, token) =>
        {
            var latency = recorders[s] = new LatencyRecorder((int)(Planned / Senders + 16));
            var message = Messages.Batch(1, messageBytes);
            using var producer = peer.OpenProducer(stream);
            foreach (var (sequence, due) in queue.GetConsumingEnumerable(token))
            {
                Messages.StampSequences(message, sequence, messageBytes);
                Messages.StampTimestamp(message, due);
                producer.Produce(message, messageBytes);
                latency.Record(Stopwatch.GetTimestamp() - due);
                Interlocked.Increment(ref _acked);
            }
        }, ct);
        if (error is not null)
            queue.CompleteAdding(); // let the scheduler's last Add return
        scheduler.Join();
        Volatile.Write(ref _doneAt, Stopwatch.GetTimestamp());
        var acked = Acked;
        return new WorkloadResult(workload, peer.Name, acked, acked * messageBytes, elapsed - 0.1,
            LatencyRecorder.Summarize([.. recorders.Where(r => r is not null)]), error?.Message ?? (acked == Planned ? null : $"acknowledged {acked} of {Planned}"));
    }
}
