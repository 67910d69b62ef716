using System.Globalization;
using OrleansBus.Client;
using OrleansBus.Contracts;

namespace OrleansBus.IntegrationTests.Client;

/// <summary><see cref="BusClient.ConsumeAsync"/> and <see cref="BusDelivery"/> against a real silo: exactly once with AutoAck, start, partial ack, nack, release.</summary>
public sealed class ConsumeTests(ClientSilo silo) : IClassFixture<ClientSilo>
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);

    private static async Task<List<string>> ProduceAsync(BusClient client, string category, int count, string prefix = "m")
    {
        var sent = new List<string>(count);
        // Batches of 1 KiB: a batch never spans chunks, so small batches let small chunks fill and seal.
        await using var producer = client.CreateProducer(category, new BusProducerOptions { MaxBatchBytes = 1024 });
        for (var n = 0; n < count; n++)
        {
            sent.Add($"{prefix}-{n.ToString("D5", CultureInfo.InvariantCulture)}");
            await producer.SendAsync(sent[^1]);
        }
        return sent;
    }

    [Fact]
    public async Task ConsumeAsync_with_AutoAck_reads_every_message_exactly_once_in_order_across_chunks()
    {
        await using var client = silo.NewClient();
        await client.PutCategoryAsync("auto-ack", new CategorySettingsUpdate(MaxChunkBytes: 4096, MaxChunkAgeMs: null, DefaultDurability: null));
        var sent = await ProduceAsync(client, "auto-ack", 3000);
        Assert.True((await client.ListChunksAsync("auto-ack")).Count >= 5, "Expected the 3,000 messages to span several 4 KiB chunks.");

        var received = new List<string>();
        var options = new ConsumeOptions { AutoAck = true, MaxMessages = 70, WaitTime = TimeSpan.FromSeconds(2) };
        using var timeout = new CancellationTokenSource(Deadline);
        await foreach (var delivery in client.ConsumeAsync("auto-ack", "readers", options, timeout.Token))
        {
            Assert.Equal(1, delivery.DeliveryCount);
            Assert.Equal(delivery.Count, delivery.Messages.Count);
            received.AddRange(delivery.MessageStrings);
            if (received.Count >= sent.Count)
            {
                await delivery.AckAsync(); // leaving the loop does not acknowledge: do it for the last one
                break;
            }
        }

        Assert.Equal(sent, received);
        var group = await client.GetGroupAsync("auto-ack", "readers");
        Assert.Equal(0, group.LagMessages);
        Assert.Equal(0, group.LagBytes);
        Assert.Null(await client.PollAsync("auto-ack", "readers", new ConsumeOptions { WaitTime = TimeSpan.Zero }));
    }

    [Fact]
    public async Task A_new_group_started_at_latest_sees_only_messages_produced_after_it_was_created()
    {
        await using var client = silo.NewClient();
        await client.ProduceAsync("start-latest", "old-1\nold-2\n");
        var latest = new ConsumeOptions { Start = ConsumeStart.Latest, WaitTime = TimeSpan.Zero, AutoAck = true };
        Assert.Null(await client.PollAsync("start-latest", "tail", latest)); // creates the group at the end

        await client.ProduceAsync("start-latest", "new-1\n");
        using var timeout = new CancellationTokenSource(Deadline);
        await foreach (var delivery in client.ConsumeAsync("start-latest", "tail", new ConsumeOptions { WaitTime = TimeSpan.FromSeconds(5) }, timeout.Token))
        {
            Assert.Equal(["new-1"], delivery.MessageStrings);
            await delivery.AckAsync();
            break;
        }
    }

    [Fact]
    public async Task A_partial_ack_then_a_nack_redelivers_only_the_unacknowledged_rest()
    {
        await using var client = silo.NewClient();
        var sent = await ProduceAsync(client, "partial", 10);
        var options = new ConsumeOptions { WaitTime = TimeSpan.FromSeconds(5), LeaseTime = TimeSpan.FromMinutes(1) };

        var first = await client.PollAsync("partial", "workers", options);
        Assert.NotNull(first);
        Assert.Equal(sent, first.MessageStrings);
        await first.AckAsync(first.GetEndOffset(3)); // messages 0..3 done
        Assert.False(first.IsSettled);
        await first.NackAsync(TimeSpan.Zero, "give the rest back");
        Assert.True(first.IsSettled);

        var second = await client.PollAsync("partial", "workers", options);
        Assert.NotNull(second);
        Assert.Equal(sent[4..], second.MessageStrings);
        Assert.Equal(first.GetEndOffset(3), second.Offset);
        Assert.Equal(1, second.DeliveryCount); // counts the deliveries that start at this offset: the first for message 4
        Assert.Equal(first.NextOffset, second.NextOffset);
        await second.AckAsync();
        Assert.Equal(0, (await client.GetGroupAsync("partial", "workers")).LagMessages);
    }

    [Fact]
    public async Task Leaving_an_AutoAck_loop_releases_the_unacknowledged_delivery_for_immediate_redelivery()
    {
        await using var client = silo.NewClient();
        await client.ProduceAsync("released", "a\nb\n");
        var options = new ConsumeOptions { AutoAck = true, WaitTime = TimeSpan.FromSeconds(5), LeaseTime = TimeSpan.FromMinutes(10) };

        await foreach (var delivery in client.ConsumeAsync("released", "workers", options))
        {
            Assert.Equal(["a", "b"], delivery.MessageStrings);
            break; // e.g. the handler failed: not acknowledged
        }

        // Released at once, not after the 10-minute lease: the next poll gets the same range again.
        var again = await client.PollAsync("released", "workers", new ConsumeOptions { WaitTime = TimeSpan.Zero });
        Assert.NotNull(again);
        Assert.Equal(["a", "b"], again.MessageStrings);
        Assert.Equal(2, again.DeliveryCount);
        await again.AckAsync();
    }

    [Fact]
    public async Task Seek_to_earliest_makes_a_caught_up_group_read_everything_again()
    {
        await using var client = silo.NewClient();
        await client.ProduceAsync("replay", "r1\nr2\n");
        var delivery = await client.PollAsync("replay", "audit", new ConsumeOptions { WaitTime = TimeSpan.FromSeconds(5) });
        await delivery!.AckAsync();
        Assert.Equal(0, (await client.GetGroupAsync("replay", "audit")).LagMessages);

        var rewound = await client.SeekAsync("replay", "audit", SeekPosition.Earliest);

        Assert.Equal(2, rewound.LagMessages);
        var again = await client.PollAsync("replay", "audit", new ConsumeOptions { WaitTime = TimeSpan.FromSeconds(5) });
        Assert.Equal(["r1", "r2"], again!.MessageStrings);
        await again.AckAsync();
    }

    [Fact]
    public async Task Polling_a_category_nobody_wrote_throws_category_not_found_but_ConsumeAsync_waits_for_it()
    {
        await using var client = silo.NewClient();
        var missing = await Assert.ThrowsAsync<BusNotFoundException>(() => client.PollAsync("appears-later", "g", new ConsumeOptions { WaitTime = TimeSpan.Zero }));
        Assert.Equal(BusErrorCodes.CategoryNotFound, missing.Code);

        using var timeout = new CancellationTokenSource(Deadline);
        var consumer = Task.Run<IReadOnlyList<string>>(async () =>
        {
            await foreach (var delivery in client.ConsumeAsync("appears-later", "g", new ConsumeOptions { WaitTime = TimeSpan.FromMilliseconds(200) }, timeout.Token))
            {
                await delivery.AckAsync();
                return delivery.MessageStrings;
            }
            return [];
        });
        await client.ProduceAsync("appears-later", "hello\n");

        Assert.Equal(["hello"], await consumer);
    }
}
