using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using OrleansBus.Contracts;

namespace OrleansBus.Benchmarks;

/// <summary>What the read phase must find: the produce phase's acknowledged totals, or the chunk listing's.</summary>
internal readonly record struct ExpectedTotals(long Messages, long Bytes);

/// <summary>
/// Lists a category's chunks, then reads each from offset 0 to its listed size, one worker per
/// connection taking the next unread chunk. Every message is checked by a <see cref="SequenceCheck"/>.
/// Each read must advance the offset by exactly its body length, so every loop ends at the chunk's
/// size or stops with a failure.
/// </summary>
internal sealed class ReadPhase(HttpClient client, BenchOptions options, string category)
{
    private ChunkInfo[] _chunks = [];
    private SequenceCheck _check = new(0, options.MessageBytes);
    private int _nextChunk;

    /// <summary>The category's chunks, oldest first; empty when the category does not exist.</summary>
    public static async Task<ChunkInfo[]> ListChunksAsync(HttpClient client, string category, CancellationToken ct)
    {
        using var response = await client.GetAsync($"v1/categories/{category}/chunks", ct);
        if (response.StatusCode == HttpStatusCode.NotFound)
            return [];
        if (!response.IsSuccessStatusCode)
            throw new HttpRequestException(await FirstFailure.DescribeAsync(response, $"list chunks of {category}", ct));
        return await response.Content.ReadFromJsonAsync(BenchJsonContext.Default.ChunkInfoArray, ct) ?? [];
    }

    /// <param name="acknowledged">What the produce phase acknowledged; null trusts the listing (read-only mode).</param>
    public async Task<PhaseResult> RunAsync(string name, ExpectedTotals? acknowledged, CancellationToken interrupted)
    {
        _chunks = await ListChunksAsync(client, category, interrupted);
        var listed = Totals(_chunks);
        var expected = acknowledged ?? listed;
        _check = new SequenceCheck(expected.Messages, options.MessageBytes);
        return await PhaseRunner.RunAsync(name, options.Connections, listed.Bytes / options.ReadBytes + _chunks.Length,
            ReadChunksAsync, read => Verify(read, listed, expected), interrupted);
    }

    /// <summary>What a chunk listing holds in all.</summary>
    public static ExpectedTotals Totals(ChunkInfo[] chunks)
    {
        var listed = new ExpectedTotals(0, 0);
        foreach (var chunk in chunks)
            listed = new ExpectedTotals(listed.Messages + chunk.Messages, listed.Bytes + chunk.Size);
        return listed;
    }

    private static string? Verify(WorkerCounters read, ExpectedTotals listed, ExpectedTotals expected)
    {
        var problems = new List<string>();
        if (listed.Bytes == 0)
            problems.Add("the category has no data to read");
        if (listed != expected)
            problems.Add($"the chunk listing has {listed.Messages} messages / {listed.Bytes} bytes; acknowledged {expected.Messages} / {expected.Bytes}");
        if (read.Messages != expected.Messages || read.Bytes != expected.Bytes)
            problems.Add($"read {read.Messages} messages / {read.Bytes} bytes; expected {expected.Messages} / {expected.Bytes}");
        if (read.Malformed + read.Duplicates + read.OutOfRange > 0)
            problems.Add($"{read.Malformed} malformed messages, {read.Duplicates} duplicate and {read.OutOfRange} unplanned sequence numbers");
        return problems.Count == 0 ? null : string.Join("; ", problems);
    }

    private async Task ReadChunksAsync(WorkerCounters counters, LatencyRecorder latency, FirstFailure failure)
    {
        // Room for a full reply plus the zero-byte read that finds its end, so the buffer rarely grows.
        var buffer = new byte[options.ReadBytes + 4096];
        var ct = failure.Token;
        for (var index = Interlocked.Increment(ref _nextChunk) - 1; index < _chunks.Length; index = Interlocked.Increment(ref _nextChunk) - 1)
        {
            var chunk = _chunks[index];
            var path = $"v1/categories/{category}/chunks/{Uri.EscapeDataString(chunk.Name)}?max_bytes={options.ReadBytes}&offset=";
            for (var offset = 0L; offset < chunk.Size;)
            {
                var sent = Stopwatch.GetTimestamp();
                using var response = await client.GetAsync(path + offset.ToString(CultureInfo.InvariantCulture), HttpCompletionOption.ResponseHeadersRead, ct);
                if (!response.IsSuccessStatusCode)
                {
                    failure.Report(await FirstFailure.DescribeAsync(response, $"read {chunk.Name} at {offset}", ct));
                    return;
                }
                int length;
                (buffer, length) = await SequenceCheck.ReadBodyAsync(response, buffer, ct);
                latency.Record(Stopwatch.GetTimestamp() - sent);
                counters.Requests++;
                // Progress must be exact and positive: otherwise this loop would skip bytes or never end.
                response.Headers.NonValidated.TryGetValues(BusHeaders.NextOffset, out var nextHeader);
                if (!long.TryParse(nextHeader.ToString(), out var next) || length == 0 || next != offset + length || next > chunk.Size)
                {
                    failure.Report($"read {chunk.Name} at {offset}: {length} bytes, {BusHeaders.NextOffset} '{nextHeader}', chunk size {chunk.Size}");
                    return;
                }
                _check.Count(buffer.AsSpan(0, length), counters);
                offset = next;
            }
        }
    }
}
