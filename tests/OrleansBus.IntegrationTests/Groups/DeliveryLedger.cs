using System.Diagnostics;
using System.Net;
using OrleansBus.Contracts;

namespace OrleansBus.IntegrationTests.Groups;

/// <summary>
/// Records what concurrent consumers of one group were handed and what they acknowledged, and checks the
/// group's promises afterwards: every message acknowledged exactly once, acknowledged ranges of a chunk in
/// increasing order and back to back, and never two live leases over overlapping bytes of one chunk.
/// Thread safe.
/// </summary>
/// <remarks>
/// Ack order per chunk is taken from a sequence number drawn just before the ack is sent. For two successful
/// acks on one chunk that order is the silo's: the second range is only leased after the first ack was applied,
/// and its ack is sent after that lease came back. (Taking the order when the 204 arrives would race.)
/// An outstanding delivery is dropped only after its ack returned, so the overlap check never misses a live
/// lease; a correct silo starts the next range exactly where the acknowledged one ended, so no false alarm.
/// </remarks>
internal sealed class DeliveryLedger
{
    private readonly Lock _lock = new();
    private readonly Dictionary<string, List<(string Consumer, Polled Delivery)>> _outstanding = new(StringComparer.Ordinal);
    private readonly Dictionary<string, List<(long Sequence, string Consumer, Polled Delivery)>> _acked = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _ackedMessages = new(StringComparer.Ordinal);
    private readonly List<string> _violations = [];
    private long _sequence;

    public int Deliveries { get; private set; }

    /// <summary>A poll returned <paramref name="delivery"/> to <paramref name="consumer"/>.</summary>
    public void Leased(string consumer, Polled delivery)
    {
        lock (_lock)
        {
            Deliveries++;
            if (!_outstanding.TryGetValue(delivery.Chunk, out var live))
                _outstanding[delivery.Chunk] = live = [];
            foreach (var (other, held) in live)
            {
                if (delivery.Offset < held.NextOffset && held.Offset < delivery.NextOffset)
                {
                    _violations.Add($"{consumer} was leased {delivery.Chunk} [{delivery.Offset}, {delivery.NextOffset}) while {other} " +
                        $"still held [{held.Offset}, {held.NextOffset}) of it unacknowledged.");
                }
            }
            live.Add((consumer, delivery));
        }
    }

    /// <summary>Call just before sending the ack; pass the number to <see cref="Acked"/>.</summary>
    public long NextAckSequence() => Interlocked.Increment(ref _sequence);

    /// <summary>The ack of <paramref name="delivery"/> (sent with <paramref name="sequence"/>) returned 204.</summary>
    public void Acked(long sequence, string consumer, Polled delivery)
    {
        lock (_lock)
        {
            _outstanding[delivery.Chunk].RemoveAll(d => ReferenceEquals(d.Delivery, delivery));
            if (!_acked.TryGetValue(delivery.Chunk, out var acked))
                _acked[delivery.Chunk] = acked = [];
            acked.Add((sequence, consumer, delivery));
            foreach (var message in delivery.Messages)
                _ackedMessages[message] = _ackedMessages.GetValueOrDefault(message) + 1;
        }
    }

    /// <summary>The ack of <paramref name="delivery"/> did not return 204: the lease was not ours after all.</summary>
    public void AckRefused(string consumer, Polled delivery, Settled outcome)
    {
        lock (_lock)
        {
            _outstanding[delivery.Chunk].RemoveAll(d => ReferenceEquals(d.Delivery, delivery));
            _violations.Add($"{consumer}'s ack of {delivery.Chunk} [{delivery.Offset}, {delivery.NextOffset}) within its 30 s lease " +
                $"answered {(int)outcome.Status} {outcome.Code}: {outcome.Body}");
        }
    }

    /// <summary>Asserts no overlapping leases or refused acks, each expected message acknowledged once and nothing else.</summary>
    public void AssertEveryMessageAcknowledgedExactlyOnce(IReadOnlyCollection<string> expected)
    {
        lock (_lock)
        {
            Assert.True(_violations.Count == 0, $"{_violations.Count} lease violations, first ones:\n{string.Join('\n', _violations.Take(10))}");
            var missing = expected.Where(m => !_ackedMessages.ContainsKey(m)).ToList();
            var repeated = _ackedMessages.Where(p => p.Value > 1).Select(p => $"{p.Key} x{p.Value}").ToList();
            var expectedSet = expected.ToHashSet(StringComparer.Ordinal);
            var unexpected = _ackedMessages.Keys.Where(m => !expectedSet.Contains(m)).ToList();
            Assert.True(missing.Count == 0, $"{missing.Count} produced messages were never acknowledged, e.g. {string.Join(", ", missing.Take(10))}.");
            Assert.True(repeated.Count == 0, $"{repeated.Count} messages were acknowledged more than once, e.g. {string.Join(", ", repeated.Take(10))}.");
            Assert.True(unexpected.Count == 0, $"{unexpected.Count} acknowledged messages were never produced, e.g. {string.Join(", ", unexpected.Take(10))}.");
        }
    }

    /// <summary>
    /// Asserts that, in ack order, each chunk's acknowledged ranges start at 0, follow each other back to back
    /// (so offsets strictly increase) and end at the chunk's size.
    /// </summary>
    public void AssertChunksAcknowledgedInOrder(IReadOnlyList<ChunkInfo> chunks)
    {
        lock (_lock)
        {
            foreach (var chunk in chunks)
            {
                if (chunk.Size == 0)
                    continue;
                Assert.True(_acked.TryGetValue(chunk.Name, out var acked), $"Nothing of chunk {chunk.Name} ({chunk.Size} bytes) was acknowledged.");
                var inAckOrder = acked.OrderBy(a => a.Sequence).ToList();
                long expectedOffset = 0;
                long messages = 0;
                foreach (var (_, consumer, delivery) in inAckOrder)
                {
                    Assert.True(delivery.Offset == expectedOffset,
                        $"In ack order, {consumer} acknowledged {chunk.Name} [{delivery.Offset}, {delivery.NextOffset}) but the previous ack ended at {expectedOffset}: " +
                        string.Join(", ", inAckOrder.Select(a => $"{a.Consumer}[{a.Delivery.Offset},{a.Delivery.NextOffset})")));
                    Assert.True(delivery.NextOffset > delivery.Offset, $"{consumer} was handed an empty range of {chunk.Name} at {delivery.Offset}.");
                    expectedOffset = delivery.NextOffset;
                    messages += delivery.Messages.Count;
                }
                Assert.True(expectedOffset == chunk.Size, $"The acknowledged ranges of {chunk.Name} end at {expectedOffset}, not at its size {chunk.Size}.");
                Assert.True(messages == chunk.Messages, $"{messages} messages of {chunk.Name} were acknowledged; it holds {chunk.Messages}.");
            }
            var listed = chunks.Select(c => c.Name).ToHashSet(StringComparer.Ordinal);
            var strays = _acked.Keys.Where(name => !listed.Contains(name)).ToList();
            Assert.True(strays.Count == 0, $"Acknowledged deliveries name chunks the silos do not list: {string.Join(", ", strays)}.");
        }
    }

    /// <summary>
    /// One consumer: poll (random max_messages 1..20) and ack until a poll comes back empty while the group's
    /// status on this silo shows no lag. Fails with the lag left if that does not happen within <paramref name="timeout"/>.
    /// </summary>
    public async Task ConsumeUntilDrainedAsync(GroupApi api, string category, string group, string consumer, int seed, TimeSpan timeout)
    {
        var random = new Random(seed);
        var clock = Stopwatch.StartNew();
        long lag = -1;
        while (clock.Elapsed < timeout)
        {
            var maxMessages = random.Next(1, 21);
            var delivery = await api.PollAsync(category, group, new PollQuery(MaxMessages: maxMessages, WaitMs: 200, Consumer: consumer));
            if (delivery is null)
            {
                lag = (await api.StatusAsync(category, group)).LagMessages;
                if (lag == 0)
                    return;
                continue;
            }
            Leased(consumer, delivery);
            Assert.InRange(delivery.Messages.Count, 1, maxMessages);
            var sequence = NextAckSequence();
            var outcome = await api.AckAsync(category, group, delivery.Token);
            if (outcome.Status == HttpStatusCode.NoContent)
                Acked(sequence, consumer, delivery);
            else
                AckRefused(consumer, delivery, outcome);
        }
        throw new TimeoutException(
            $"Consumer {consumer} on {api.BaseUrl}: group {group} of {category} was not drained within {timeout.TotalSeconds:0} s " +
            $"(last lag seen {lag} messages, {Deliveries} deliveries in all).");
    }
}
