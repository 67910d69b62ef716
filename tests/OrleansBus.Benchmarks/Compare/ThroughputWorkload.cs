using System.Diagnostics;

namespace OrleansBus.Benchmarks.Compare;

/// <summary>
/// Workloads (a), (b1) and (b2): W producer threads, each with its own connection, send batches of fixed-size messages and
/// wait for each batch's acknowledgement before the next (closed loop). Batch numbers come from one counter, so the
/// sequence numbers acknowledged are always 0..N-1 with none missing; the loop ends at the planned count or when
/// the deadline has passed (a batch under way still completes). Latency is per batch request.
/// </summary>
internal static class ThroughputWorkload
{
    public static WorkloadResult Run(IPeer peer, string workload, string stream, int workers, int messageBytes, int messagesPerBatch,
        long plannedMessages, TimeSpan maxDuration, CancellationToken ct)
    {
        var batches = plannedMessages / messagesPerBatch + (plannedMessages % messagesPerBatch == 0 ? 0 : 1);
        var (counts, recorders) = (new long[workers], new LatencyRecorder[workers]);
        var (nextBatch, stopDrawing) = (-1L, 0);
        var deadline = Stopwatch.GetTimestamp() + (long)(maxDuration.TotalSeconds * Stopwatch.Frequency);
        var (seconds, error) = Workers.Run(workers, (w, token) =>
        {
            var latency = recorders[w] = new LatencyRecorder(1024);
            var body = Messages.Batch(messagesPerBatch, messageBytes);
            using var producer = peer.OpenProducer(stream);
            while (Volatile.Read(ref stopDrawing) == 0)
            {
                // A number drawn is always produced: the flag is checked before drawing, never after.
                var batch = Interlocked.Increment(ref nextBatch);
                if (batch >= batches)
                    break;
                var messages = (int)Math.Min(messagesPerBatch, plannedMessages - batch * messagesPerBatch);
                var memory = body.AsMemory(0, messages * messageBytes);
                Messages.StampSequences(memory.Span, batch * messagesPerBatch, messageBytes);
                var sent = Stopwatch.GetTimestamp();
                producer.Produce(memory, messageBytes);
                latency.Record(Stopwatch.GetTimestamp() - sent);
                counts[w] += messages;
                if (token.IsCancellationRequested || Stopwatch.GetTimestamp() > deadline)
                {
                    // Stop drawing: every batch number drawn so far is acknowledged, so 0..N-1 stay contiguous.
                    Volatile.Write(ref stopDrawing, 1);
                    break;
                }
            }
        }, ct);
        var total = counts.Sum();
        var note = total < plannedMessages && plannedMessages != long.MaxValue ? $"stopped at the {maxDuration.TotalSeconds:F0} s cap" : null;
        return new WorkloadResult(workload, peer.Name, total, total * messageBytes, seconds,
            LatencyRecorder.Summarize([.. recorders.Where(r => r is not null)]), error?.Message, note);
    }
}
