using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using OrleansBus.Contracts;

namespace OrleansBus.IntegrationTests.Cluster;

/// <summary>
/// Consumers of one group that poll and acknowledge through a given silo (or the gateway) and record every message
/// they acknowledged and every acknowledged range per chunk, so a test can check "each message exactly once" and
/// "each chunk's ranges tile it from 0 to its size". Polls and acks that fail with an error (a silo or the database
/// briefly down) are retried; an ack refused within the lease is recorded as a violation — unless
/// <see cref="AllowLeaseLost"/> says a fault may take leases away (then a 409 <c>lease_lost</c> means "not acknowledged,
/// will come again", and the message must still end up acknowledged exactly once; a 409 after an ack that got no answer
/// or a 5xx is ambiguous — applied before the grain's silo died, or lost with it — and such messages may be acknowledged
/// once or not again). Thread safe.
/// </summary>
internal sealed class GroupLedger(TestCluster cluster, string category, string group)
{
    /// <summary>Set while a fault may lose leases (the group grain's silo dies): a 409 <c>lease_lost</c> is then no violation.</summary>
    public bool AllowLeaseLost { get; set; }

    /// <summary>How many acks answered <c>lease_lost</c> while that was allowed.</summary>
    public int LeasesLost => Volatile.Read(ref _leasesLost);

    private int _leasesLost;

    private readonly Lock _lock = new();
    private readonly Dictionary<string, int> _acked = new(StringComparer.Ordinal);
    private readonly Dictionary<string, List<(long Offset, long Next)>> _ranges = new(StringComparer.Ordinal);
    private readonly List<string> _violations = [];
    private readonly HashSet<string> _maybe = new(StringComparer.Ordinal);

    public int DistinctAcknowledged
    {
        get
        {
            lock (_lock)
                return _acked.Count;
        }
    }

    public bool HasAll(IEnumerable<string> messages)
    {
        lock (_lock)
            return messages.All(m => _acked.ContainsKey(m) || _maybe.Contains(m));
    }

    /// <summary>
    /// Polls (up to 500 messages, 200 ms wait, 30 s lease) and acknowledges until a poll comes back empty and
    /// <paramref name="done"/> holds; fails after <paramref name="timeout"/> naming what was left.
    /// </summary>
    /// <param name="maxMessages">Per delivery; smaller makes a consumer take longer over the same messages (a fault then lands mid-run).</param>
    public async Task ConsumeAsync(string baseUrl, string consumer, Func<Task<bool>> done, TimeSpan timeout, int maxMessages = 500)
    {
        var clock = Stopwatch.StartNew();
        var lastError = "none";
        var deliveries = 0;
        while (clock.Elapsed < timeout)
        {
            try
            {
                var uri = new Uri($"{baseUrl}/v1/categories/{category}/groups/{group}/poll?max_messages={maxMessages}&wait_ms=200&lease_ms=30000&consumer={consumer}");
                using var response = await cluster.Http.PostAsync(uri, content: null);
                if (response.StatusCode == HttpStatusCode.NoContent)
                {
                    if (await done())
                        return;
                    continue;
                }
                var body = await response.Content.ReadAsByteArrayAsync();
                if (response.StatusCode != HttpStatusCode.OK)
                {
                    lastError = $"poll answered {(int)response.StatusCode}: {Encoding.UTF8.GetString(body)}";
                    await Task.Delay(100);
                    continue;
                }
                deliveries++;
                await SettleAsync(baseUrl, consumer, response, body);
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException or IOException)
            {
                lastError = $"{e.GetType().Name}: {e.Message}";
                await Task.Delay(100);
            }
        }
        string status;
        try
        {
            status = await cluster.Http.GetStringAsync(new Uri($"{baseUrl}/v1/categories/{category}/groups/{group}"));
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            status = e.Message;
        }
        throw new Xunit.Sdk.XunitException(
            $"Consumer {consumer} of group {group} on {baseUrl} did not finish within {timeout.TotalSeconds:0} s: {DistinctAcknowledged} distinct " +
            $"messages acknowledged after {deliveries} deliveries, {LeasesLost} acks answered lease_lost; last error: {lastError}. " +
            $"The group there: {status}\n{cluster.Logs()}");
    }

    private async Task SettleAsync(string baseUrl, string consumer, HttpResponseMessage response, byte[] body)
    {
        string Header(string name) => response.Headers.GetValues(name).Single();
        var token = Header(BusHeaders.Delivery);
        var chunk = Header(BusHeaders.Chunk);
        var offset = long.Parse(Header(BusHeaders.Offset), CultureInfo.InvariantCulture);
        var next = long.Parse(Header(BusHeaders.NextOffset), CultureInfo.InvariantCulture);
        Assert.True(body.Length == next - offset && body.Length > 0 && body[^1] == (byte)'\n',
            $"A poll of {chunk} on {baseUrl} returned {body.Length} bytes for [{offset}, {next}) or ended mid-message.");
        var messages = Encoding.UTF8.GetString(body, 0, body.Length - 1).Split('\n');

        // An ack that fails in transport may or may not have been applied: retry it (a repeat of an applied ack is 409,
        // which then counts as applied only if this consumer's first attempt never got an answer).
        var transportFailed = false;
        var unanswered = false; // a transport failure or a 5xx: the ack may have been applied before the answer was lost
        for (var attempt = 0; attempt < 20; attempt++)
        {
            try
            {
                using var ack = await cluster.Http.PostAsJsonAsync(new Uri($"{baseUrl}/v1/categories/{category}/groups/{group}/ack"), new AckRequest(token, null));
                var text = await ack.Content.ReadAsStringAsync();
                if (AllowLeaseLost && unanswered && ack.StatusCode == HttpStatusCode.Conflict)
                {
                    // Applied by the grain before its silo died, or lost with it and delivered again: either is right.
                    lock (_lock)
                    {
                        foreach (var message in messages)
                            _maybe.Add(message);
                    }
                    return;
                }
                if (ack.StatusCode is HttpStatusCode.NoContent or HttpStatusCode.OK || (transportFailed && ack.StatusCode == HttpStatusCode.Conflict))
                {
                    Record(chunk, offset, next, messages);
                    return;
                }
                if (AllowLeaseLost && ack.StatusCode == HttpStatusCode.Conflict && text.Contains(BusErrorCodes.LeaseLost, StringComparison.Ordinal))
                {
                    Interlocked.Increment(ref _leasesLost); // redelivered later; recorded when that ack succeeds
                    return;
                }
                if ((int)ack.StatusCode < 500)
                {
                    lock (_lock)
                        _violations.Add($"{consumer}'s ack of {chunk} [{offset}, {next}) on {baseUrl} within its 30 s lease answered {(int)ack.StatusCode}: {text}");
                    return;
                }
                unanswered = true;
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException or IOException)
            {
                transportFailed = unanswered = true;
            }
            await Task.Delay(200);
        }
        lock (_lock)
        {
            if (AllowLeaseLost && unanswered)
            {
                // A fault longer than the retries (a PostgreSQL outage): this consumer gives up. The ack may have been
                // applied before an answer was lost, or the range comes again when its lease expires: either is right.
                foreach (var message in messages)
                    _maybe.Add(message);
                return;
            }
            _violations.Add($"{consumer} could not acknowledge {chunk} [{offset}, {next}) on {baseUrl} in 20 attempts.");
        }
    }

    private void Record(string chunk, long offset, long next, string[] messages)
    {
        lock (_lock)
        {
            foreach (var message in messages)
                _acked[message] = _acked.GetValueOrDefault(message) + 1;
            if (!_ranges.TryGetValue(chunk, out var ranges))
                _ranges[chunk] = ranges = [];
            ranges.Add((offset, next));
        }
    }

    /// <summary>Group lag (messages) as <paramref name="baseUrl"/> reports it is 0.</summary>
    public async Task<bool> DrainedAsync(string baseUrl)
    {
        using var response = await cluster.Http.GetAsync(new Uri($"{baseUrl}/v1/categories/{category}/groups/{group}"));
        return response.StatusCode == HttpStatusCode.OK && (await response.Content.ReadFromJsonAsync<GroupInfo>())!.LagMessages == 0;
    }

    /// <summary>
    /// No refused acks; every message of <paramref name="required"/> acknowledged exactly once; every message of
    /// <paramref name="optional"/> at most once; nothing else acknowledged.
    /// </summary>
    /// <summary>For a report: acknowledged-at-produce messages never consumed, messages consumed more than once, refused acks.</summary>
    public (int Lost, int Duplicates, int Violations) Count(IReadOnlyCollection<string> required)
    {
        lock (_lock)
            return (required.Count(m => !_acked.ContainsKey(m) && !_maybe.Contains(m)), _acked.Count(p => p.Value > 1), _violations.Count);
    }

    public void AssertAcknowledgedOnce(IReadOnlyCollection<string> required, IReadOnlyCollection<string>? optional = null)
    {
        lock (_lock)
        {
            Assert.True(_violations.Count == 0, $"{_violations.Count} acks were refused, first ones:\n{string.Join('\n', _violations.Take(10))}");
            var missing = required.Where(m => !_acked.ContainsKey(m) && !_maybe.Contains(m)).ToList();
            Assert.True(missing.Count == 0,
                $"{missing.Count} of {required.Count} acknowledged-at-produce messages were never consumed, e.g. {string.Join(", ", missing.Take(10))}.\n{cluster.Logs()}");
            var repeated = _acked.Where(p => p.Value > 1).Select(p => $"{p.Key} x{p.Value}").ToList();
            Assert.True(repeated.Count == 0, $"{repeated.Count} messages were acknowledged more than once, e.g. {string.Join(", ", repeated.Take(10))}.");
            var known = required.Concat(optional ?? []).ToHashSet(StringComparer.Ordinal);
            var unexpected = _acked.Keys.Where(m => !known.Contains(m)).ToList();
            Assert.True(unexpected.Count == 0, $"{unexpected.Count} consumed messages were never produced, e.g. {string.Join(", ", unexpected.Take(10))}.");
        }
    }

    /// <summary>Each listed chunk's acknowledged ranges tile [0, size) without gap or overlap; no other chunk was consumed.</summary>
    public void AssertChunksCovered(IReadOnlyList<ChunkInfo> chunks)
    {
        lock (_lock)
        {
            foreach (var chunk in chunks.Where(c => c.Size > 0))
            {
                Assert.True(_ranges.TryGetValue(chunk.Name, out var ranges), $"Nothing of chunk {chunk.Name} ({chunk.Size} bytes, {chunk.State}) was consumed.");
                long end = 0;
                foreach (var (offset, next) in ranges.OrderBy(r => r.Offset))
                {
                    Assert.True(offset == end, $"Consumed ranges of {chunk.Name} do not follow each other: one starts at {offset}, the previous ended at {end}: " +
                        string.Join(", ", ranges.OrderBy(r => r.Offset).Select(r => $"[{r.Offset},{r.Next})")));
                    end = next;
                }
                Assert.True(end == chunk.Size, $"The consumed ranges of {chunk.Name} end at {end}, not at its size {chunk.Size}.");
            }
            var listed = chunks.Select(c => c.Name).ToHashSet(StringComparer.Ordinal);
            var strays = _ranges.Keys.Where(n => !listed.Contains(n)).ToList();
            Assert.True(strays.Count == 0, $"Deliveries named chunks the silo does not list: {string.Join(", ", strays)}.");
        }
    }
}
