using System.Diagnostics;
using System.Globalization;
using OrleansBus.Client;
using OrleansBus.Contracts;

namespace OrleansBus.IntegrationTests.Client;

/// <summary>Client-side batching of <see cref="BusProducer"/> against a real silo: few requests, order, flush, durability.</summary>
public sealed class ProducerTests(ClientSilo silo) : IClassFixture<ClientSilo>
{
    private static string Event(int n) => "event-" + n.ToString("D4", CultureInfo.InvariantCulture);

    [Fact]
    public async Task A_thousand_small_sends_travel_in_a_handful_of_batches_and_arrive_in_order()
    {
        await using var client = silo.NewClient();
        await using var producer = client.CreateProducer("batching", new BusProducerOptions
        {
            LingerTime = TimeSpan.FromMilliseconds(50),
            MaxBatchBytes = 64 * 1024,
        });
        var sent = new List<string>();
        for (var n = 0; n < 1000; n++)
        {
            sent.Add(Event(n));
            await producer.SendAsync(sent[^1]);
        }
        await producer.FlushAsync();

        Assert.Equal(1000, producer.AcknowledgedMessages);
        Assert.True(producer.AcknowledgedBatches <= 5, $"1,000 sends of 11 bytes took {producer.AcknowledgedBatches} produce requests; expected a handful.");
        var chunks = await client.ListChunksAsync("batching");
        Assert.Equal(1000, chunks.Sum(c => c.Messages));
        Assert.Equal(sent, await ReadBack.AllMessagesAsync(client, "batching"));
    }

    [Fact]
    public async Task Batches_never_exceed_MaxBatchBytes_and_follow_each_other_without_gaps()
    {
        await using var client = silo.NewClient();
        await using var producer = client.CreateProducer("batch-size", new BusProducerOptions
        {
            LingerTime = TimeSpan.FromMilliseconds(50),
            MaxBatchBytes = 64 * 1024,
        });
        var padding = new string('x', 1000);
        var acknowledgements = new List<Task<ProduceResult>>();
        for (var n = 0; n < 1000; n++)
            acknowledgements.Add(producer.SendAndWaitAsync($"{Event(n)} {padding}"));
        var results = await Task.WhenAll(acknowledgements);

        // Every message of a batch gets the batch's acknowledgement: the distinct ones are the requests.
        var batches = results.DistinctBy(r => (r.Chunk, r.Offset)).OrderBy(r => r.Chunk, StringComparer.Ordinal).ThenBy(r => r.Offset).ToList();
        Assert.All(batches, b => Assert.True(b.Length <= 64 * 1024, $"A batch of {b.Length} bytes is over MaxBatchBytes 65536."));
        Assert.InRange(batches.Count, 16, 20); // 1,000 × 1,012 bytes in 64 KiB batches: 16 full ones, a few more if the linger cut one short
        Assert.Equal(1000, batches.Sum(b => b.Messages));
        for (var i = 1; i < batches.Count; i++)
        {
            if (batches[i].Chunk == batches[i - 1].Chunk)
                Assert.Equal(batches[i - 1].Offset + batches[i - 1].Length, batches[i].Offset);
        }
        Assert.Equal(batches.Count, producer.AcknowledgedBatches);
    }

    [Fact]
    public async Task Disposing_a_producer_sends_everything_still_buffered_without_waiting_for_the_linger_time()
    {
        await using var client = silo.NewClient();
        var producer = client.CreateProducer("flush-on-dispose", new BusProducerOptions { LingerTime = TimeSpan.FromMinutes(5) });
        var sent = Enumerable.Range(0, 500).Select(Event).ToList();
        foreach (var message in sent)
            await producer.SendAsync(message);
        Assert.Equal(0, producer.AcknowledgedMessages);

        var clock = Stopwatch.StartNew();
        await producer.DisposeAsync();

        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(20), $"Dispose took {clock.Elapsed}; it must not wait out the 5-minute linger.");
        Assert.Equal(500, producer.AcknowledgedMessages);
        Assert.Equal(sent, await ReadBack.AllMessagesAsync(client, "flush-on-dispose"));
        await producer.DisposeAsync(); // a second dispose does nothing
        await Assert.ThrowsAsync<ObjectDisposedException>(async () => await producer.SendAsync("too late"));
    }

    [Fact]
    public async Task Disposing_the_client_flushes_the_producers_it_made()
    {
        var client = silo.NewClient();
        var producer = client.CreateProducer("flush-on-client-dispose", new BusProducerOptions { LingerTime = TimeSpan.FromMinutes(5) });
        await producer.SendAsync("left in the buffer");
        await client.DisposeAsync();

        await using var reader = silo.NewClient();
        Assert.Equal(["left in the buffer"], await ReadBack.AllMessagesAsync(reader, "flush-on-client-dispose"));
    }

    [Fact]
    public async Task SendAndWaitAsync_completes_with_the_fsync_acknowledgement_of_its_batch()
    {
        await using var client = silo.NewClient();
        await using var producer = client.CreateProducer("durable", new BusProducerOptions { Durability = Durability.Fsync });

        var result = await producer.SendAndWaitAsync("must survive power loss"u8.ToArray());

        Assert.Equal(DurabilityNames.Fsync, result.Durability);
        Assert.Equal("durable", result.Category);
        Assert.Equal(1, result.Messages);
    }

    [Fact]
    public async Task A_message_containing_a_newline_is_refused_before_anything_is_buffered()
    {
        await using var client = silo.NewClient();
        await using var producer = client.CreateProducer("newlines");

        await Assert.ThrowsAsync<ArgumentException>(async () => await producer.SendAsync("two\nlines"));
        await Assert.ThrowsAsync<ArgumentException>(async () => await producer.SendAsync("bytes\n"u8.ToArray()));
        await producer.FlushAsync();

        Assert.Equal(0, producer.PendingBytes);
        Assert.Equal(0, producer.AcknowledgedMessages);
    }

    [Fact]
    public async Task A_message_over_the_server_limit_fails_its_batch_with_BusMessageTooLargeException()
    {
        await using var client = silo.NewClient();
        await using var producer = client.CreateProducer("too-big-via-producer");

        var error = await Assert.ThrowsAsync<BusMessageTooLargeException>(() => producer.SendAndWaitAsync(new string('x', ClientSilo.MaxMessageBytes + 10)));

        Assert.Equal(BusErrorCodes.MessageTooLarge, error.Code);
        Assert.Equal(1, producer.FailedMessages);
    }
}
