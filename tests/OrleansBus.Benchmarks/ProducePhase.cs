using System.Buffers;
using System.Buffers.Text;
using System.Diagnostics;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using OrleansBus.Contracts;

namespace OrleansBus.Benchmarks;

/// <summary>
/// Produces a planned number of fixed-size messages numbered 0..N-1, in batches, one worker per
/// connection. Workers draw the next batch number from a shared counter, so the loop ends by itself.
/// Each worker builds its batch body once and only rewrites the sequence digits per request: no
/// allocation per message. A non-2xx reply, or an acknowledgement that disagrees with the batch sent,
/// fails the phase (the read phase could no longer verify anything).
/// </summary>
internal sealed class ProducePhase
{
    /// <summary>Zero-padded decimal sequence number that starts every message; 10^12 exceeds any plan.</summary>
    public const int SequenceDigits = 12;

    private static readonly StandardFormat SequenceFormat = new('D', SequenceDigits);
    private static readonly MediaTypeHeaderValue OctetStream = new("application/octet-stream");

    private readonly HttpClient _client;
    private readonly BenchOptions _options;
    private readonly Uri _produceUri;
    private readonly long _batchCount;
    private readonly long _plannedMessages;
    private long _nextBatch;

    public ProducePhase(HttpClient client, BenchOptions options, string category, long totalMiB)
    {
        (_client, _options) = (client, options);
        _plannedMessages = totalMiB * BenchOptions.MiB / options.MessageBytes;
        _batchCount = (_plannedMessages + options.MessagesPerBatch - 1) / options.MessagesPerBatch;
        _produceUri = new Uri(client.BaseAddress!, $"v1/categories/{category}/messages?{options.ProduceQuery}");
    }

    public Task<PhaseResult> RunAsync(string name, CancellationToken interrupted) =>
        PhaseRunner.RunAsync(name, _options.Connections, _batchCount, ProduceBatchesAsync,
            sum => sum.Messages == _plannedMessages ? null : $"acknowledged {sum.Messages} messages; planned {_plannedMessages}",
            interrupted);

    private async Task ProduceBatchesAsync(WorkerCounters counters, LatencyRecorder latency, FirstFailure failure)
    {
        var (messageBytes, perBatch, ct) = (_options.MessageBytes, _options.MessagesPerBatch, failure.Token);
        var body = BuildBatchTemplate(perBatch, messageBytes);
        for (var batch = Interlocked.Increment(ref _nextBatch) - 1; batch < _batchCount; batch = Interlocked.Increment(ref _nextBatch) - 1)
        {
            var messages = (int)Math.Min(perBatch, _plannedMessages - batch * perBatch);
            var length = messages * messageBytes;
            StampSequenceNumbers(body.AsSpan(0, length), batch * perBatch, messageBytes);

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
                failure.Report($"produce batch {batch}: sent {messages} messages / {length} bytes; acknowledged {ack?.Messages} / {ack?.Length}");
                return;
            }
            counters.Messages += ack.Messages;
            counters.Bytes += ack.Length;
        }
    }

    /// <summary>A full batch of "<c>&lt;12 digits&gt; mnop...\n</c>" messages: printable ASCII, one newline each.</summary>
    private static byte[] BuildBatchTemplate(int messages, int messageBytes)
    {
        var message = new byte[messageBytes];
        for (var i = SequenceDigits + 1; i < messageBytes - 1; i++)
            message[i] = (byte)('a' + i % 26);
        (message[SequenceDigits], message[^1]) = ((byte)' ', (byte)'\n');
        var batch = new byte[messages * messageBytes];
        for (var offset = 0; offset < batch.Length; offset += messageBytes)
            message.CopyTo(batch, offset);
        return batch;
    }

    private static void StampSequenceNumbers(Span<byte> batch, long sequence, int messageBytes)
    {
        for (var offset = 0; offset < batch.Length; offset += messageBytes)
            Utf8Formatter.TryFormat(sequence++, batch.Slice(offset, SequenceDigits), out _, SequenceFormat);
    }
}
