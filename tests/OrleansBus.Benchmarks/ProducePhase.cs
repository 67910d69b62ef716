using System.Buffers;
using System.Buffers.Text;
using System.Diagnostics;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using OrleansBus.Contracts;

namespace OrleansBus.Benchmarks;

/// <summary>
/// Produces a planned number of fixed-size messages, numbered 0..N-1, in batches over C workers that
/// share one HttpClient (one keep-alive connection each). Workers take the next batch number from a
/// shared counter, so the loop ends by itself once every batch is sent. Each worker pre-builds one
/// batch body and only rewrites the sequence digits per request: no allocation per message.
/// A non-2xx reply, or an acknowledgement that disagrees with the batch sent, stops the phase.
/// </summary>
internal sealed class ProducePhase
{
    /// <summary>Zero-padded decimal sequence number at the start of every message; 10^12 exceeds any plan.</summary>
    public const int SequenceDigits = 12;

    private static readonly StandardFormat SequenceFormat = new('D', SequenceDigits);
    private static readonly MediaTypeHeaderValue OctetStream = new("application/octet-stream");

    private readonly HttpClient _client;
    private readonly BenchOptions _options;
    private readonly Uri _produceUri;
    private readonly long _batchCount;
    private long _nextBatch;

    public ProducePhase(HttpClient client, BenchOptions options, string category, long totalMiB)
    {
        _client = client;
        _options = options;
        PlannedMessages = totalMiB * BenchOptions.MiB / options.MessageBytes;
        _batchCount = (PlannedMessages + options.MessagesPerBatch - 1) / options.MessagesPerBatch;
        _produceUri = new Uri(client.BaseAddress!,
            $"v1/categories/{category}/messages?durability={options.Durability.ToWire()}");
    }

    /// <summary>Messages this phase sends; sequence numbers run from 0 to this minus one.</summary>
    public long PlannedMessages { get; }

    public async Task<PhaseResult> RunAsync(string name, CancellationToken interrupted)
    {
        using var failure = new FirstFailure(interrupted);
        var workers = _options.Connections;
        var counters = new WorkerCounters[workers];
        var recorders = new LatencyRecorder[workers];
        var tasks = new Task[workers];
        var started = Stopwatch.GetTimestamp();
        for (var i = 0; i < workers; i++)
        {
            counters[i] = new WorkerCounters();
            recorders[i] = new LatencyRecorder((int)(_batchCount / workers) + 1);
            var (worker, recorder) = (counters[i], recorders[i]);
            tasks[i] = Task.Run(() => ProduceBatchesAsync(worker, recorder, failure), CancellationToken.None);
        }
        await Task.WhenAll(tasks);
        var elapsed = Stopwatch.GetElapsedTime(started);

        var sum = WorkerCounters.Sum(counters);
        var problem = failure.Message;
        if (problem is null && interrupted.IsCancellationRequested)
            problem = "interrupted";
        if (problem is null && sum.Messages != PlannedMessages)
            problem = $"acknowledged {sum.Messages} messages; planned {PlannedMessages}";
        return new PhaseResult(name, sum.Bytes, sum.Messages, sum.Requests, elapsed,
            LatencyRecorder.Summarize(recorders), problem);
    }

    private async Task ProduceBatchesAsync(WorkerCounters counters, LatencyRecorder latency, FirstFailure failure)
    {
        var messageBytes = _options.MessageBytes;
        var perBatch = _options.MessagesPerBatch;
        var body = BuildBatchTemplate(perBatch, messageBytes);
        var ct = failure.Token;
        try
        {
            while (!ct.IsCancellationRequested)
            {
                var batch = Interlocked.Increment(ref _nextBatch) - 1;
                if (batch >= _batchCount)
                    return;
                var firstSequence = batch * perBatch;
                var messages = (int)Math.Min(perBatch, PlannedMessages - firstSequence);
                var length = messages * messageBytes;
                StampSequenceNumbers(body.AsSpan(0, length), firstSequence, messageBytes);

                using var request = new HttpRequestMessage(HttpMethod.Post, _produceUri);
                request.Content = new ByteArrayContent(body, 0, length);
                request.Content.Headers.ContentType = OctetStream;
                var sent = Stopwatch.GetTimestamp();
                using var response = await _client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct);
                if (!response.IsSuccessStatusCode)
                {
                    failure.Report(await FirstFailure.DescribeAsync(response, $"produce batch {batch}", ct));
                    return;
                }
                var ack = await response.Content.ReadFromJsonAsync(BenchJsonContext.Default.ProduceResult, ct);
                latency.Record(Stopwatch.GetTimestamp() - sent);
                counters.Requests++;
                if (ack is null || ack.Messages != messages || ack.Length != length)
                {
                    failure.Report($"produce batch {batch}: sent {messages} messages / {length} bytes, " +
                        $"acknowledged {ack?.Messages} / {ack?.Length}");
                    return;
                }
                counters.Messages += ack.Messages;
                counters.Bytes += ack.Length;
            }
        }
#pragma warning disable CA1031 // Any failure of a worker becomes the phase's reported failure; nothing is swallowed.
        catch (Exception e)
#pragma warning restore CA1031
        {
            failure.Report(e, "produce");
        }
    }

    /// <summary>A full batch of messages "<c>&lt;12 digits&gt; abc...xyz\n</c>"; only the digits change later.</summary>
    private static byte[] BuildBatchTemplate(int messages, int messageBytes)
    {
        var message = new byte[messageBytes];
        message[SequenceDigits] = (byte)' ';
        for (var i = SequenceDigits + 1; i < messageBytes - 1; i++)
            message[i] = (byte)('a' + i % 26);
        message[^1] = (byte)'\n';
        var batch = new byte[messages * messageBytes];
        for (var offset = 0; offset < batch.Length; offset += messageBytes)
            message.CopyTo(batch, offset);
        return batch;
    }

    private static void StampSequenceNumbers(Span<byte> batch, long firstSequence, int messageBytes)
    {
        var sequence = firstSequence;
        for (var offset = 0; offset < batch.Length; offset += messageBytes)
            Utf8Formatter.TryFormat(sequence++, batch.Slice(offset, SequenceDigits), out _, SequenceFormat);
    }
}
