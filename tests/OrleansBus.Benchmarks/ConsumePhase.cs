using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using OrleansBus.Contracts;

namespace OrleansBus.Benchmarks;

/// <summary>
/// N consumers on a fresh group, each with its own keep-alive connection, loop poll (wait_ms=0) → check →
/// ack until the group has acknowledged everything produced. Every message goes through a
/// <see cref="SequenceCheck"/>, so one delivered twice or never fails the phase; afterwards the group's lag
/// must be zero. A 204 before the end means other consumers hold the remaining ranges: back off briefly and
/// retry. Every loop ends: each delivery acknowledges a positive number of bytes of a bounded total, and
/// 30 s without any consumer acknowledging anything is a failure.
/// </summary>
internal sealed class ConsumePhase(BenchOptions options, string category, int consumers, ExpectedTotals expected)
{
    private const int MaxMessagesPerPoll = 100_000, LeaseMs = 60_000, MaxBackoffMs = 16;
    private static readonly TimeSpan NoProgressLimit = TimeSpan.FromSeconds(30);
    private static readonly MediaTypeHeaderValue Json = new("application/json");

    private readonly string _group = BenchOptions.NewCategoryName($"consume-{consumers}");
    private readonly SequenceCheck _check = new(expected.Messages, options.MessageBytes);
    private long _ackedBytes, _lastProgress, _nextConsumer;

    public async Task<PhaseResult> RunAsync(string name, CancellationToken interrupted)
    {
        _lastProgress = Stopwatch.GetTimestamp();
        var result = await PhaseRunner.RunAsync(name, consumers, expected.Bytes / options.ReadBytes + 16, ConsumeAsync, Verify, interrupted);
        if (!result.Succeeded)
            return result;
        // The silo's own view must agree: nothing left behind for the group.
        using var client = Program.CreateClient(options.Url, 1);
        var lag = await client.GetFromJsonAsync($"v1/categories/{category}/groups/{_group}", BenchJsonContext.Default.GroupInfo, interrupted);
        return lag is { LagBytes: 0, LagMessages: 0 } ? result
            : result with { Failure = $"group {_group} still lags {lag?.LagMessages} messages / {lag?.LagBytes} bytes" };
    }

    private string? Verify(WorkerCounters acked)
    {
        var problems = new List<string>();
        if (expected.Bytes == 0)
            problems.Add("the category has no data to consume");
        if (acked.Messages != expected.Messages || acked.Bytes != expected.Bytes)
            problems.Add($"acknowledged {acked.Messages} messages / {acked.Bytes} bytes; produced {expected.Messages} / {expected.Bytes}");
        if (acked.Malformed + acked.Duplicates + acked.OutOfRange > 0)
            problems.Add($"{acked.Malformed} malformed messages, {acked.Duplicates} duplicate and {acked.OutOfRange} unplanned sequence numbers");
        return problems.Count == 0 ? null : $"group {_group}: " + string.Join("; ", problems);
    }

    private async Task ConsumeAsync(WorkerCounters counters, LatencyRecorder latency, FirstFailure failure)
    {
        var consumer = $"c{Interlocked.Increment(ref _nextConsumer)}";
        using var client = Program.CreateClient(options.Url, 1); // this consumer's own connection
        var groupPath = $"v1/categories/{category}/groups/{_group}";
        var pollUri = new Uri(options.Url, $"{groupPath}/poll?max_bytes={options.ReadBytes}&max_messages={MaxMessagesPerPoll}" +
            $"&wait_ms=0&lease_ms={LeaseMs}&consumer={consumer}&start=earliest");
        var ackUri = new Uri(options.Url, $"{groupPath}/ack");
        var buffer = new byte[options.ReadBytes + 4096];
        var (ct, backoffMs) = (failure.Token, 0);
        while (Volatile.Read(ref _ackedBytes) < expected.Bytes)
        {
            var started = Stopwatch.GetTimestamp();
            using var polled = await SendAsync(client, pollUri, null, ct);
            if (polled.StatusCode == HttpStatusCode.NoContent)
            {
                if (Stopwatch.GetElapsedTime(Volatile.Read(ref _lastProgress)) > NoProgressLimit)
                {
                    failure.Report($"{consumer}: no delivery acknowledged for {NoProgressLimit.TotalSeconds:F0} s, " +
                        $"{Volatile.Read(ref _ackedBytes)} of {expected.Bytes} bytes");
                    return;
                }
                backoffMs = Math.Min(MaxBackoffMs, Math.Max(1, backoffMs * 2));
                await Task.Delay(backoffMs, ct);
                continue;
            }
            if (polled.StatusCode != HttpStatusCode.OK)
            {
                failure.Report(await FirstFailure.DescribeAsync(polled, $"{consumer} poll", ct));
                return;
            }
            int length;
            (buffer, length) = await SequenceCheck.ReadBodyAsync(polled, buffer, ct);
            var token = Header(polled, BusHeaders.Delivery);
            // Progress must be exact and positive: otherwise this loop could count bytes twice or never end.
            if (token.Length == 0 || length == 0 || !long.TryParse(Header(polled, BusHeaders.Offset), out var offset)
                || !long.TryParse(Header(polled, BusHeaders.NextOffset), out var next) || next != offset + length)
            {
                failure.Report($"{consumer} poll: {length} bytes, delivery '{token}', {BusHeaders.Offset} '{Header(polled, BusHeaders.Offset)}', " +
                    $"{BusHeaders.NextOffset} '{Header(polled, BusHeaders.NextOffset)}'");
                return;
            }
            _check.Count(buffer.AsSpan(0, length), counters);
            var ack = new ByteArrayContent(JsonSerializer.SerializeToUtf8Bytes(new AckRequest(token), BenchJsonContext.Default.AckRequest));
            ack.Headers.ContentType = Json;
            using var acked = await SendAsync(client, ackUri, ack, ct);
            if (acked.StatusCode != HttpStatusCode.NoContent)
            {
                failure.Report(await FirstFailure.DescribeAsync(acked, $"{consumer} ack of {token}", ct));
                return;
            }
            latency.Record(Stopwatch.GetTimestamp() - started);
            counters.Requests++;
            backoffMs = 0;
            Interlocked.Add(ref _ackedBytes, length);
            Volatile.Write(ref _lastProgress, Stopwatch.GetTimestamp());
        }
    }

    /// <summary>A POST whose reply body is read by the caller, not buffered by HttpClient.</summary>
    public static async Task<HttpResponseMessage> SendAsync(HttpClient client, Uri uri, HttpContent? content, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, uri) { Content = content };
        return await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct);
    }

    public static string Header(HttpResponseMessage response, string name) =>
        response.Headers.NonValidated.TryGetValues(name, out var values) ? values.ToString() : "";
}
