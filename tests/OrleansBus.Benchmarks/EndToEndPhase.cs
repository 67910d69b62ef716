using System.Buffers.Text;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using OrleansBus.Contracts;

namespace OrleansBus.Benchmarks;

/// <summary>
/// Produce-to-consume latency at a fixed rate. An <see cref="EndToEndProducer"/> sends --rate single-message
/// produce requests a second for --seconds, each message carrying its sequence number and send time; one
/// consumer long-polls a fresh group that starts at the latest position and acks, and takes latency =
/// receive time − embedded send time per message (same process, same clock). Every message sent must arrive
/// exactly once. The consumer's loop ends when it has them all, or <see cref="Tail"/> after the producer's
/// fixed number of sends is over.
/// </summary>
internal sealed class EndToEndPhase(BenchOptions options, string category)
{
    private const int TimestampDigits = EndToEndProducer.TimestampDigits, LeaseMs = 60_000, MaxMessagesPerPoll = 1000, MaxWaitMs = 1000;
    public const int MinMessageBytes = ProducePhase.SequenceDigits + TimestampDigits + 3; // two spaces and '\n'
    private static readonly TimeSpan Tail = TimeSpan.FromSeconds(5);
    private static readonly MediaTypeHeaderValue Json = new("application/json");

    private readonly long _planned = (long)options.Rate * options.Seconds;
    private readonly string _group = BenchOptions.NewCategoryName("e2e");
    private readonly SequenceCheck _check = new((long)options.Rate * options.Seconds, options.MessageBytes);
    private readonly EndToEndProducer _producer = new(options, category, (long)options.Rate * options.Seconds);

    public async Task<PhaseResult> RunAsync(CancellationToken interrupted)
    {
        using var failure = new FirstFailure(interrupted);
        using var producer = Program.CreateClient(options.Url, EndToEndProducer.MaxInFlight);
        using var consumer = Program.CreateClient(options.Url, 1);
        // The category must exist before a group can poll it; that first poll creates the group at the latest position.
        using (var created = await producer.PutAsync($"v1/categories/{category}", new ByteArrayContent([]), interrupted))
        {
            if (!created.IsSuccessStatusCode)
                return Failed(await FirstFailure.DescribeAsync(created, $"create {category}", interrupted));
        }
        using (var first = await ConsumePhase.SendAsync(consumer, PollUri(0), null, interrupted))
        {
            if (first.StatusCode != HttpStatusCode.NoContent)
                return Failed(await FirstFailure.DescribeAsync(first, $"first poll of {_group} (expected 204 on a new category)", interrupted));
        }
        var (sent, received, latency) = (new WorkerCounters(), new WorkerCounters(), new LatencyRecorder((int)_planned));
        var started = Stopwatch.GetTimestamp();
        await Task.WhenAll(
            PhaseRunner.RunOneAsync("e2e produce", (c, _, f) => _producer.RunAsync(producer, c, f), sent, new LatencyRecorder(0), failure),
            PhaseRunner.RunOneAsync("e2e consume", (c, l, f) => ConsumeAsync(consumer, c, l, f), received, latency, failure));
        var seconds = (_producer.DoneAt - started) / (double)Stopwatch.Frequency;
        var problem = failure.Message ?? (interrupted.IsCancellationRequested ? "interrupted" : Verify(sent, received));
        return new PhaseResult("e2e", received.Bytes, received.Messages, sent.Messages, seconds, LatencyRecorder.Summarize([latency]), problem);
    }

    /// <summary>The report line: what was sent and received, and latency per message.</summary>
    public string Describe(PhaseResult r) =>
        $"{r.Name,-10} sent {r.Requests} received {r.Messages} in {r.Seconds:F2} s ({r.Requests / Math.Max(r.Seconds, 1e-9):F0} msg/s, " +
        $"target {options.Rate}, schedule slipped {_producer.SlippedMs:F0} ms)  " +
        $"latency ms p50 {r.LatencyMs.P50:F2} p99 {r.LatencyMs.P99:F2} p999 {r.LatencyMs.P999:F2} max {r.LatencyMs.Max:F2}  " +
        $"produce request ms p50 {_producer.RequestLatency.P50:F2} p99 {_producer.RequestLatency.P99:F2}" + (r.Failure is null ? "" : $"\n  FAILED: {r.Failure}");

    private static PhaseResult Failed(string why) => new("e2e", 0, 0, 0, 0, default, why);

    private string? Verify(WorkerCounters sent, WorkerCounters received)
    {
        var missing = sent.Messages - _check.Distinct();
        if (sent.Messages != _planned)
            return $"sent {sent.Messages} of {_planned} messages";
        return missing == 0 && received.Malformed + received.Duplicates + received.OutOfRange == 0 ? null
            : $"group {_group}: {missing} messages missing {Tail.TotalSeconds:F0} s after the producer stopped; " +
              $"{received.Malformed} malformed, {received.Duplicates} duplicate, {received.OutOfRange} unplanned";
    }

    private Uri PollUri(int waitMs) => new(options.Url, $"v1/categories/{category}/groups/{_group}/poll?max_bytes={options.ReadBytes}" +
        $"&max_messages={MaxMessagesPerPoll}&wait_ms={waitMs}&lease_ms={LeaseMs}&consumer=e2e&start=latest");

    private async Task ConsumeAsync(HttpClient client, WorkerCounters counters, LatencyRecorder latency, FirstFailure failure)
    {
        var ackUri = new Uri(options.Url, $"v1/categories/{category}/groups/{_group}/ack");
        var buffer = new byte[options.ReadBytes + 4096];
        var ct = failure.Token;
        while (true)
        {
            var (waitMs, doneAt) = (MaxWaitMs, _producer.DoneAt);
            if (doneAt != 0)
            {
                var tailLeft = Tail - Stopwatch.GetElapsedTime(doneAt);
                if (counters.Messages - counters.Duplicates - counters.Malformed - counters.OutOfRange >= _producer.Acked || tailLeft <= TimeSpan.Zero)
                    return; // all in, or the tail wait is over: Verify counts what is missing
                waitMs = (int)Math.Clamp(Math.Ceiling(tailLeft.TotalMilliseconds), 1, MaxWaitMs);
            }
            using var polled = await ConsumePhase.SendAsync(client, PollUri(waitMs), null, ct);
            if (polled.StatusCode == HttpStatusCode.NoContent)
                continue;
            if (polled.StatusCode != HttpStatusCode.OK)
            {
                failure.Report(await FirstFailure.DescribeAsync(polled, "e2e poll", ct));
                return;
            }
            int length;
            (buffer, length) = await SequenceCheck.ReadBodyAsync(polled, buffer, ct);
            Measure(buffer.AsSpan(0, length), Stopwatch.GetTimestamp(), counters, latency);
            var token = ConsumePhase.Header(polled, BusHeaders.Delivery);
            var ack = new ByteArrayContent(JsonSerializer.SerializeToUtf8Bytes(new AckRequest(token), BenchJsonContext.Default.AckRequest));
            ack.Headers.ContentType = Json;
            using var acked = await ConsumePhase.SendAsync(client, ackUri, ack, ct);
            if (acked.StatusCode != HttpStatusCode.NoContent)
            {
                failure.Report(await FirstFailure.DescribeAsync(acked, $"e2e ack of {token}", ct));
                return;
            }
        }
    }

    /// <summary>Per message: its length, sequence number (marked once) and latency from its embedded send time.</summary>
    private void Measure(ReadOnlySpan<byte> body, long receivedAt, WorkerCounters counters, LatencyRecorder latency)
    {
        counters.Bytes += body.Length;
        for (var newline = body.IndexOf((byte)'\n'); newline >= 0; body = body[(newline + 1)..], newline = body.IndexOf((byte)'\n'))
        {
            counters.Messages++;
            if (newline + 1 != options.MessageBytes || !SequenceCheck.TryParseSequence(body, out var sequence)
                || !Utf8Parser.TryParse(body.Slice(ProducePhase.SequenceDigits + 1, TimestampDigits), out long sentAt, out var used) || used != TimestampDigits)
            {
                counters.Malformed++;
                continue;
            }
            latency.Record(receivedAt - sentAt);
            _check.Mark(sequence, counters);
        }
        if (!body.IsEmpty)
            counters.Malformed++; // replies are promised to end at a newline
    }
}
