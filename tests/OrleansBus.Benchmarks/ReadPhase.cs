using System.Buffers.Text;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using OrleansBus.Contracts;

namespace OrleansBus.Benchmarks;

/// <summary>What the read phase must find: the produce phase's acknowledged totals, or the chunk listing's.</summary>
internal readonly record struct ExpectedTotals(long Messages, long Bytes);

/// <summary>
/// Lists a category's chunks and reads each from offset 0 to its listed size over C workers (the next
/// chunk goes to whichever worker is free). Every message is checked: its length, and its sequence
/// number, marked in a shared bit set so a lost or duplicated message fails the run even when the
/// totals happen to agree. Each read must advance the offset by exactly its body length, so every
/// loop ends at the chunk's size or stops with a failure.
/// </summary>
internal sealed class ReadPhase(HttpClient client, BenchOptions options, string category)
{
    private ChunkInfo[] _chunks = [];
    private long[] _seen = [];
    private long _expectedMessages;
    private int _nextChunk;

    /// <summary>The category's chunks oldest first, or an empty list when the category does not exist.</summary>
    public static async Task<ChunkInfo[]> ListChunksAsync(HttpClient client, string category, CancellationToken ct)
    {
        using var response = await client.GetAsync($"v1/categories/{category}/chunks", ct);
        if (response.StatusCode == HttpStatusCode.NotFound)
            return [];
        if (!response.IsSuccessStatusCode)
            throw new HttpRequestException(await FirstFailure.DescribeAsync(response, $"list chunks of {category}", ct));
        return await response.Content.ReadFromJsonAsync(BenchJsonContext.Default.ChunkInfoArray, ct) ?? [];
    }

    /// <param name="expected">Totals acknowledged by the produce phase; null trusts the chunk listing (read-only mode).</param>
    public async Task<PhaseResult> RunAsync(string name, ExpectedTotals? expected, CancellationToken interrupted)
    {
        _chunks = await ListChunksAsync(client, category, interrupted);
        var listed = new ExpectedTotals(0, 0);
        foreach (var chunk in _chunks)
            listed = new ExpectedTotals(listed.Messages + chunk.Messages, listed.Bytes + chunk.Size);
        var target = expected ?? listed;
        _expectedMessages = target.Messages;
        _seen = new long[(target.Messages + 63) / 64];

        using var failure = new FirstFailure(interrupted);
        var workers = options.Connections;
        var counters = new WorkerCounters[workers];
        var recorders = new LatencyRecorder[workers];
        var tasks = new Task[workers];
        var started = Stopwatch.GetTimestamp();
        for (var i = 0; i < workers; i++)
        {
            counters[i] = new WorkerCounters();
            recorders[i] = new LatencyRecorder((int)(listed.Bytes / options.ReadBytes / workers) + _chunks.Length + 1);
            var (worker, recorder) = (counters[i], recorders[i]);
            tasks[i] = Task.Run(() => ReadChunksAsync(worker, recorder, failure), CancellationToken.None);
        }
        await Task.WhenAll(tasks);
        var elapsed = Stopwatch.GetElapsedTime(started);

        var sum = WorkerCounters.Sum(counters);
        var problem = failure.Message ?? (interrupted.IsCancellationRequested ? "interrupted" : Verify(sum, listed, target));
        return new PhaseResult(name, sum.Bytes, sum.Messages, sum.Requests, elapsed,
            LatencyRecorder.Summarize(recorders), problem);
    }

    private static string? Verify(WorkerCounters read, ExpectedTotals listed, ExpectedTotals expected)
    {
        var problems = new List<string>();
        if (listed.Bytes == 0)
            problems.Add("the category has no chunks or only empty ones: nothing was read");
        if (listed != expected)
            problems.Add($"chunk listing has {listed.Messages} messages / {listed.Bytes} bytes; acknowledged {expected.Messages} / {expected.Bytes}");
        if (read.Messages != expected.Messages || read.Bytes != expected.Bytes)
            problems.Add($"read {read.Messages} messages / {read.Bytes} bytes; expected {expected.Messages} / {expected.Bytes}");
        if (read.Malformed + read.Duplicates + read.OutOfRange > 0)
            problems.Add($"{read.Malformed} malformed, {read.Duplicates} duplicate and {read.OutOfRange} unplanned sequence numbers");
        return problems.Count == 0 ? null : string.Join("; ", problems);
    }

    private async Task ReadChunksAsync(WorkerCounters counters, LatencyRecorder latency, FirstFailure failure)
    {
        // Room for a full reply plus the zero-byte read that finds its end, so the buffer never grows in the common case.
        var buffer = new byte[options.ReadBytes + 4096];
        var ct = failure.Token;
        try
        {
            while (!ct.IsCancellationRequested)
            {
                var index = Interlocked.Increment(ref _nextChunk) - 1;
                if (index >= _chunks.Length)
                    return;
                var chunk = _chunks[index];
                var chunkPath = $"v1/categories/{category}/chunks/{Uri.EscapeDataString(chunk.Name)}?max_bytes={options.ReadBytes}&offset=";
                for (var offset = 0L; offset < chunk.Size && !ct.IsCancellationRequested;)
                {
                    var during = $"read {chunk.Name} at {offset}";
                    var sent = Stopwatch.GetTimestamp();
                    using var response = await client.GetAsync(chunkPath + offset.ToString(CultureInfo.InvariantCulture),
                        HttpCompletionOption.ResponseHeadersRead, ct);
                    if (!response.IsSuccessStatusCode)
                    {
                        failure.Report(await FirstFailure.DescribeAsync(response, during, ct));
                        return;
                    }
                    int length;
                    (buffer, length) = await ReadBodyAsync(response, buffer, ct);
                    latency.Record(Stopwatch.GetTimestamp() - sent);
                    counters.Requests++;
                    // Progress must be exact and positive, otherwise this loop would never end or would skip bytes.
                    response.Headers.NonValidated.TryGetValues(BusHeaders.NextOffset, out var nextHeader);
                    if (!long.TryParse(nextHeader.ToString(), out var next)
                        || length == 0 || next != offset + length || next > chunk.Size)
                    {
                        failure.Report($"{during}: got {length} bytes and {BusHeaders.NextOffset} " +
                            $"'{nextHeader}' (chunk size {chunk.Size})");
                        return;
                    }
                    CountMessages(buffer.AsSpan(0, length), counters);
                    offset = next;
                }
            }
        }
#pragma warning disable CA1031 // Any failure of a worker becomes the phase's reported failure; nothing is swallowed.
        catch (Exception e)
#pragma warning restore CA1031
        {
            failure.Report(e, "read");
        }
    }

    private static async Task<(byte[] Buffer, int Length)> ReadBodyAsync(HttpResponseMessage response, byte[] buffer, CancellationToken ct)
    {
        await using var stream = await response.Content.ReadAsStreamAsync(ct);
        var length = 0;
        while (true)
        {
            // A single message larger than max_bytes comes back whole, so the buffer may have to grow.
            if (length == buffer.Length)
                Array.Resize(ref buffer, buffer.Length * 2);
            var read = await stream.ReadAsync(buffer.AsMemory(length), ct);
            if (read == 0)
                return (buffer, length);
            length += read;
        }
    }

    /// <summary>The hot loop: one vectorised newline search, one length check and one bit per message.</summary>
    private void CountMessages(ReadOnlySpan<byte> body, WorkerCounters counters)
    {
        counters.Bytes += body.Length;
        while (!body.IsEmpty)
        {
            var newline = body.IndexOf((byte)'\n');
            if (newline < 0)
            {
                // The server promises replies cut back to the last newline; a tail without one breaks that.
                counters.Malformed++;
                return;
            }
            counters.Messages++;
            if (newline + 1 != options.MessageBytes
                || !Utf8Parser.TryParse(body[..ProducePhase.SequenceDigits], out long sequence, out var used)
                || used != ProducePhase.SequenceDigits)
                counters.Malformed++;
            else if ((ulong)sequence >= (ulong)_expectedMessages)
                counters.OutOfRange++;
            else
            {
                var bit = 1L << (int)(sequence & 63);
                if ((Interlocked.Or(ref _seen[sequence >> 6], bit) & bit) != 0)
                    counters.Duplicates++;
            }
            body = body[(newline + 1)..];
        }
    }
}
