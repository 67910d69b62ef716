using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using OrleansBus.Testing;

namespace OrleansBus.IntegrationTests.Groups;

/// <summary>
/// Consumer groups end to end against a real silo process: concurrent consumers, lease expiry and fencing,
/// dead letters, independent groups across restarts and kills, start/seek. Every test runs once per metadata
/// backend (the derived classes), each with its own data directory and, on PostgreSQL, its own database.
/// </summary>
public abstract class ConsumerGroupTests(MetadataBackend backend)
{
    private const int ProducedMessages = 2_000;
    private const int MessagesPerBatch = 10;

    private async Task<GroupSilo> StartSiloAsync(TempDirectory dir, params (string Key, string Value)[] settings) =>
        await GroupSilo.StartAsync(dir.Combine("data"), "g1", await GroupSilo.MetadataSettingsAsync(backend, settings));

    /// <summary>Exactly 20 bytes with its newline: "m-000123-abcdefghij".</summary>
    private static string Message(string prefix, int n) => $"{prefix}-{n.ToString("D6", CultureInfo.InvariantCulture)}-abcdefghij";

    private static async Task<List<string>> ProduceNumberedAsync(GroupApi api, string category, string prefix, int count)
    {
        var all = new List<string>(count);
        for (var first = 0; first < count; first += MessagesPerBatch)
        {
            var batch = new StringBuilder();
            for (var n = first; n < Math.Min(count, first + MessagesPerBatch); n++)
            {
                all.Add(Message(prefix, n));
                batch.Append(all[^1]).Append('\n');
            }
            await api.ProduceAsync(category, batch.ToString());
        }
        return all;
    }

    [Theory]
    [InlineData(2)]
    [InlineData(5)]
    public async Task Concurrent_consumers_receive_every_message_exactly_once_in_chunk_order(int consumers)
    {
        using var dir = new TempDirectory("groups");
        await using var silo = await StartSiloAsync(dir, ("MaxChunkBytes", "1024"));
        var api = silo.Api;
        var produced = await ProduceNumberedAsync(api, "orders", "m", ProducedMessages);
        var chunks = await api.ChunksAsync("orders");
        Assert.True(chunks.Length >= 20, $"{ProducedMessages} messages of 20 bytes at MaxChunkBytes 1024 made only {chunks.Length} chunks.");

        var ledger = new DeliveryLedger();
        await Task.WhenAll(Enumerable.Range(1, consumers).Select(c =>
            Task.Run(() => ledger.ConsumeUntilDrainedAsync(api, "orders", "workers", $"c{c}", seed: c, TimeSpan.FromSeconds(90)))));

        Assert.Null(await api.PollAsync("orders", "workers", new PollQuery(WaitMs: 0)));
        ledger.AssertEveryMessageAcknowledgedExactlyOnce(produced);
        ledger.AssertChunksAcknowledgedInOrder(await api.ChunksAsync("orders"));
        var status = await api.StatusAsync("orders", "workers");
        Assert.Equal(0, status.LagMessages);
        Assert.Equal(0, status.LagBytes);
    }

    [Fact]
    public async Task A_consumer_that_dies_holding_a_lease_has_its_range_redelivered_after_the_deadline()
    {
        using var dir = new TempDirectory("groups");
        await using var silo = await StartSiloAsync(dir);
        var api = silo.Api;
        await api.ProduceAsync("jobs", "job-1\njob-2\n");

        var a = await api.PollAsync("jobs", "workers", new PollQuery(LeaseMs: 1000, Consumer: "a"));
        Assert.NotNull(a);
        Assert.Equal(1, a.DeliveryCount);
        Assert.Equal(["job-1", "job-2"], a.Messages);
        var clock = Stopwatch.StartNew();

        // A never acks. B's long poll must get the same range once A's lease runs out, not before and not only at its own deadline.
        var b = await api.PollAsync("jobs", "workers", new PollQuery(WaitMs: 5000, Consumer: "b"), json: true);
        var waited = clock.Elapsed;
        var receivedAt = DateTimeOffset.UtcNow;
        Assert.True(b is not null, $"B's 5 s poll got nothing although A's lease ended at {a.LeaseExpiresAt:O} (silo log: {silo.Process.LogPath}).");
        Assert.Equal(a.Chunk, b.Chunk);
        Assert.Equal(a.Offset, b.Offset);
        Assert.Equal(a.NextOffset, b.NextOffset);
        Assert.Equal(a.Messages, b.Messages);
        Assert.Equal(2, b.DeliveryCount);
        Assert.NotEqual(a.Token, b.Token);
        Assert.True(receivedAt >= a.LeaseExpiresAt, $"B got the range at {receivedAt:O}, before A's lease ended at {a.LeaseExpiresAt:O}.");
        Assert.True(waited < TimeSpan.FromSeconds(4),
            $"B got the range {waited.TotalMilliseconds:0} ms after A's poll: the 1 s lease's expiry did not wake the long poll.");

        var status = await api.StatusAsync("jobs", "workers");
        Assert.Equal("b", Assert.Single(status.Chunks).LeaseConsumer);

        var late = await api.AckAsync("jobs", "workers", a.Token);
        Assert.Equal(HttpStatusCode.Conflict, late.Status);
        Assert.Equal("lease_lost", late.Code);
        Assert.Equal(HttpStatusCode.NoContent, (await api.AckAsync("jobs", "workers", b.Token)).Status);
        Assert.Equal(0, (await api.StatusAsync("jobs", "workers")).LagMessages);
        Assert.Null(await api.PollAsync("jobs", "workers", new PollQuery(WaitMs: 0)));
    }

    [Fact]
    public async Task A_poison_message_nacked_five_times_lands_in_the_dead_letter_category_and_the_group_moves_on()
    {
        using var dir = new TempDirectory("groups");
        await using var silo = await StartSiloAsync(dir, ("MaxDeliveries", "5"));
        var api = silo.Api;
        await api.ProduceAsync("payments", "poison\nok-1\n");

        string? chunk = null;
        for (var attempt = 1; attempt <= 5; attempt++)
        {
            var poisoned = await api.PollAsync("payments", "billing", new PollQuery(MaxMessages: 1));
            Assert.True(poisoned is not null, $"Delivery {attempt} of the poison message never came.");
            Assert.Equal(["poison"], poisoned.Messages);
            Assert.Equal(0, poisoned.Offset);
            Assert.Equal(attempt, poisoned.DeliveryCount);
            chunk = poisoned.Chunk;
            Assert.Equal(HttpStatusCode.NoContent, (await api.NackAsync("payments", "billing", poisoned.Token, reason: "bad")).Status);
        }

        var next = await api.PollAsync("payments", "billing", new PollQuery(MaxMessages: 1));
        Assert.True(next is not null, "After five nacks the group did not move on to ok-1.");
        Assert.Equal(["ok-1"], next.Messages);
        Assert.Equal(7, next.Offset);
        Assert.Equal(1, next.DeliveryCount);
        Assert.Equal(HttpStatusCode.NoContent, (await api.AckAsync("payments", "billing", next.Token)).Status);
        Assert.Null(await api.PollAsync("payments", "billing", new PollQuery()));
        Assert.Equal(0, (await api.StatusAsync("payments", "billing")).LagMessages);

        var deadChunks = await api.ChunksAsync("payments.dead-letter");
        Assert.Equal(1, deadChunks.Sum(c => c.Messages));
        var dead = await api.ReadChunkAsync("payments.dead-letter", deadChunks.Single(c => c.Messages == 1).Name, deadChunks.Single(c => c.Messages == 1).Size);
        Assert.EndsWith("\n", dead, StringComparison.Ordinal);
        using var letter = JsonDocument.Parse(Assert.Single(dead.TrimEnd('\n').Split('\n')));
        var root = letter.RootElement;
        Assert.Equal("payments", root.GetProperty("category").GetString());
        Assert.Equal(chunk, root.GetProperty("chunk").GetString());
        Assert.Equal(0, root.GetProperty("offset").GetInt64());
        Assert.Equal("billing", root.GetProperty("group").GetString());
        Assert.Equal(5, root.GetProperty("deliveries").GetInt32());
        Assert.Equal("bad", root.GetProperty("reason").GetString());
        Assert.Equal("poison", root.GetProperty("message").GetString());
    }

    [Fact]
    public async Task A_poison_message_is_dead_lettered_once_when_many_consumers_poll_at_the_moment_it_expires()
    {
        using var dir = new TempDirectory("groups");
        await using var silo = await StartSiloAsync(dir, ("MaxDeliveries", "5"));
        var api = silo.Api;
        await api.ProduceAsync("refunds", "poison\nok-1\n");
        for (var attempt = 1; attempt <= 5; attempt++)
        {
            var poisoned = await api.PollAsync("refunds", "billing", new PollQuery(MaxMessages: 1));
            Assert.True(poisoned is not null && poisoned.DeliveryCount == attempt, $"Delivery {attempt} of the poison message never came.");
            Assert.Equal(HttpStatusCode.NoContent, (await api.NackAsync("refunds", "billing", poisoned.Token, reason: "bad")).Status);
        }

        // Ten consumers poll at once; the poison message must go to the dead letters once, and ok-1 to one of them.
        var polls = await Task.WhenAll(Enumerable.Range(1, 10).Select(c =>
            api.PollAsync("refunds", "billing", new PollQuery(MaxMessages: 1, Consumer: $"c{c}"))));
        var winners = polls.Where(p => p is not null).Select(p => p!).ToList();
        Assert.Equal(["ok-1"], Assert.Single(winners).Messages);

        var deadChunks = await api.ChunksAsync("refunds.dead-letter");
        var letters = new List<string>();
        foreach (var chunk in deadChunks)
            letters.AddRange((await api.ReadChunkAsync("refunds.dead-letter", chunk.Name, chunk.Size)).Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.True(letters.Count == 1,
            $"One poison message became {letters.Count} dead letters when 10 consumers polled at once:\n{string.Join('\n', letters)}");
    }

    [Fact]
    public async Task Two_groups_progress_independently_and_a_silo_restart_keeps_their_offsets()
    {
        using var dir = new TempDirectory("groups");
        await using var silo = await StartSiloAsync(dir);
        var api = silo.Api;
        await api.ProduceAsync("events", string.Concat(Enumerable.Range(0, 10).Select(n => $"e-{n}\n")));

        var half = await api.PollAsync("events", "g1", new PollQuery(MaxMessages: 5));
        Assert.Equal(["e-0", "e-1", "e-2", "e-3", "e-4"], half!.Messages);
        Assert.Equal(HttpStatusCode.NoContent, (await api.AckAsync("events", "g1", half.Token)).Status);
        var all = await api.PollAsync("events", "g2", new PollQuery());
        Assert.Equal(10, all!.Messages.Count);
        Assert.Equal(HttpStatusCode.NoContent, (await api.AckAsync("events", "g2", all.Token)).Status);

        // SIGTERM and start again (the active chunk is sealed on the way down).
        await silo.Process.RestartAsync();
        var g1 = await api.PollAsync("events", "g1", new PollQuery(MaxMessages: 2));
        Assert.True(g1 is not null, $"After a restart g1 got nothing; it had acknowledged 5 of 10 (silo log: {silo.Process.LogPath}).");
        Assert.Equal(["e-5", "e-6"], g1.Messages);
        Assert.Equal(half.NextOffset, g1.Offset);
        Assert.Equal(HttpStatusCode.NoContent, (await api.AckAsync("events", "g1", g1.Token)).Status);
        Assert.Null(await api.PollAsync("events", "g2", new PollQuery()));
        Assert.Equal(3, (await api.StatusAsync("events", "g1")).LagMessages);
        Assert.Equal(0, (await api.StatusAsync("events", "g2")).LagMessages);

        // New data into a new active chunk; g2 takes it, g1 does not. Then SIGKILL: no shutdown hooks at all.
        await api.ProduceAsync("events", "f-0\nf-1\n");
        var fresh = await api.PollAsync("events", "g2", new PollQuery());
        Assert.Equal(["f-0", "f-1"], fresh!.Messages);
        Assert.Equal(HttpStatusCode.NoContent, (await api.AckAsync("events", "g2", fresh.Token)).Status);
        await silo.Process.KillAsync();
        await silo.Process.StartAsync();

        Assert.Null(await api.PollAsync("events", "g2", new PollQuery()));
        Assert.Equal(0, (await api.StatusAsync("events", "g2")).LagMessages);
        Assert.Equal(5, (await api.StatusAsync("events", "g1")).LagMessages);
        var rest = new List<string>();
        while (await api.PollAsync("events", "g1", new PollQuery()) is { } delivery)
        {
            rest.AddRange(delivery.Messages);
            Assert.Equal(HttpStatusCode.NoContent, (await api.AckAsync("events", "g1", delivery.Token)).Status);
            Assert.True(rest.Count <= 5, $"g1 was handed more than it had left after the kill: {string.Join(", ", rest)}.");
        }
        Assert.Equal(["e-7", "e-8", "e-9", "f-0", "f-1"], rest);
        Assert.Equal(0, (await api.StatusAsync("events", "g1")).LagMessages);
    }

    [Fact]
    public async Task Start_latest_skips_existing_data()
    {
        using var dir = new TempDirectory("groups");
        await using var silo = await StartSiloAsync(dir);
        var api = silo.Api;
        var old = await api.ProduceAsync("clicks", "old-1\nold-2\n");

        Assert.Null(await api.PollAsync("clicks", "tail", new PollQuery(Start: "latest")));
        Assert.Equal(0, (await api.StatusAsync("clicks", "tail")).LagMessages);
        await api.ProduceAsync("clicks", "new-1\n");
        var delivery = await api.PollAsync("clicks", "tail", new PollQuery(WaitMs: 2000, Start: "latest"));
        Assert.True(delivery is not null, "A group started at latest never got the message produced after it started.");
        Assert.Equal(["new-1"], delivery.Messages);
        Assert.Equal(old.Offset + old.Length, delivery.Offset);

        // A group without start=latest still sees the old data: it is there, "tail" skipped it.
        var head = await api.PollAsync("clicks", "head", new PollQuery());
        Assert.Equal(["old-1", "old-2", "new-1"], head!.Messages);
    }

    [Fact]
    public async Task Seek_to_earliest_redelivers_everything()
    {
        using var dir = new TempDirectory("groups");
        await using var silo = await StartSiloAsync(dir, ("MaxChunkBytes", "1024"));
        var api = silo.Api;
        var produced = await ProduceNumberedAsync(api, "audit", "a", 300);
        Assert.True((await api.ChunksAsync("audit")).Length > 1, "300 messages at MaxChunkBytes 1024 fit in one chunk; the seek would cross no chunk.");

        Assert.Equal(produced, await DrainInOrderAsync(api, "audit", "replay"));
        var seeked = await api.SeekAsync("audit", "replay", "earliest");
        Assert.Equal(produced.Count, seeked.LagMessages);
        Assert.Equal(produced, await DrainInOrderAsync(api, "audit", "replay"));
        Assert.Equal(0, (await api.StatusAsync("audit", "replay")).LagMessages);
    }

    /// <summary>One consumer: poll and ack until a poll returns nothing; the messages in delivery order.</summary>
    private static async Task<List<string>> DrainInOrderAsync(GroupApi api, string category, string group)
    {
        var messages = new List<string>();
        while (await api.PollAsync(category, group, new PollQuery(MaxMessages: 37)) is { } delivery)
        {
            messages.AddRange(delivery.Messages);
            Assert.Equal(HttpStatusCode.NoContent, (await api.AckAsync(category, group, delivery.Token)).Status);
            Assert.True(messages.Count <= 10_000, "The group keeps redelivering: more than 10,000 messages from a 300-message category.");
        }
        return messages;
    }

    [Fact]
    public async Task Concurrent_polls_for_one_chunk_lease_it_to_exactly_one_of_them()
    {
        using var dir = new TempDirectory("groups");
        await using var silo = await StartSiloAsync(dir);
        var api = silo.Api;
        await api.ProduceAsync("race", "r-1\nr-2\nr-3\n");

        // Round 1 races the group's creation too; round 2 races a lease on an existing, released range.
        for (var round = 1; round <= 2; round++)
        {
            var polls = await Task.WhenAll(Enumerable.Range(1, 10).Select(c =>
                api.PollAsync("race", "racers", new PollQuery(WaitMs: 0, LeaseMs: 30_000, Consumer: $"c{c}"))));
            var winners = polls.Where(p => p is not null).Select(p => p!).ToList();
            Assert.True(winners.Count == 1, $"Round {round}: {winners.Count} of 10 concurrent polls were leased the single range " +
                $"({string.Join(", ", winners.Select(w => $"{w.Chunk}[{w.Offset},{w.NextOffset})"))}).");
            Assert.Equal(["r-1", "r-2", "r-3"], winners[0].Messages);
            Assert.Equal(round, winners[0].DeliveryCount);
            Assert.Equal(HttpStatusCode.NoContent, (await api.NackAsync("race", "racers", winners[0].Token)).Status);
        }
    }
}

public sealed class SqliteConsumerGroupTests() : ConsumerGroupTests(MetadataBackend.Sqlite);

public sealed class PostgresConsumerGroupTests() : ConsumerGroupTests(MetadataBackend.Postgres);
