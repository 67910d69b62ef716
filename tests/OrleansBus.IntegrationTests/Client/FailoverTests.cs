using System.Globalization;
using OrleansBus.Client;
using OrleansBus.Testing;

namespace OrleansBus.IntegrationTests.Client;

/// <summary>
/// Endpoint failover against real silo processes: produce on two independent silos (own data, own SQLite), consume
/// on two silos sharing one PostgreSQL database (the group's state is shared; each silo serves its own chunks).
/// </summary>
public sealed class FailoverTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(90);

    private static Uri Url(SiloProcess silo) => new(silo.BaseUrl);

    private static async Task<List<string>> ProduceNumberedAsync(BusClient client, string category, string prefix, int count)
    {
        var sent = new List<string>(count);
        await using var producer = client.CreateProducer(category);
        for (var n = 0; n < count; n++)
        {
            sent.Add($"{prefix}-{n.ToString("D5", CultureInfo.InvariantCulture)}");
            await producer.SendAsync(sent[^1]);
        }
        return sent;
    }

    [Fact]
    public async Task Produce_moves_to_the_second_endpoint_when_the_first_silo_stops_and_stays_there()
    {
        using var dir = new TempDirectory("failover");
        await using var first = new SiloProcess(dir.Combine("fa", "data"), "fa");
        await using var second = new SiloProcess(dir.Combine("fb", "data"), "fb");
        await Task.WhenAll(first.StartAsync(), second.StartAsync());
        await using var client = ClientSilo.NewClient(null, Url(first), Url(second));

        var before = await client.ProduceAsync("orders", "before\n");
        Assert.StartsWith("fa-", before.Chunk, StringComparison.Ordinal);
        await first.StopAsync();

        var after = await client.ProduceAsync("orders", "after\n");
        Assert.StartsWith("fb-", after.Chunk, StringComparison.Ordinal);
        Assert.Equal(Url(second), client.CurrentEndpoint);

        // The client keeps the endpoint that answered last: with the first silo back, requests stay on the second.
        await first.StartAsync();
        var later = await client.ProduceAsync("orders", "later\n");
        Assert.StartsWith("fb-", later.Chunk, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_producer_keeps_delivering_through_a_failover_and_loses_nothing()
    {
        using var dir = new TempDirectory("failover");
        await using var first = new SiloProcess(dir.Combine("fa", "data"), "fa");
        await using var second = new SiloProcess(dir.Combine("fb", "data"), "fb");
        await Task.WhenAll(first.StartAsync(), second.StartAsync());
        await using var client = ClientSilo.NewClient(null, Url(first), Url(second));
        var sent = new List<string>();

        await using (var producer = client.CreateProducer("events"))
        {
            for (var n = 0; n < 1000; n++)
            {
                if (n == 500)
                {
                    await producer.FlushAsync();
                    await first.StopAsync(); // a clean stop between batches: nothing in flight, so nothing duplicated
                }
                sent.Add("e-" + n.ToString("D4", CultureInfo.InvariantCulture));
                await producer.SendAsync(sent[^1]);
            }
            await producer.FlushAsync();
            Assert.Equal(1000, producer.AcknowledgedMessages);
            Assert.Equal(0, producer.FailedMessages);
        }

        await first.StartAsync();
        await using var onFirst = ClientSilo.NewClient(null, Url(first));
        await using var onSecond = ClientSilo.NewClient(null, Url(second));
        var stored = (await ReadBack.AllMessagesAsync(onFirst, "events")).Concat(await ReadBack.AllMessagesAsync(onSecond, "events")).ToList();
        Assert.Equal(sent, stored);
    }

    [Fact]
    public async Task When_no_endpoint_accepts_connections_every_call_throws_BusUnavailableException_naming_each()
    {
        var a = new Uri($"http://127.0.0.1:{FreePort.Get()}");
        var b = new Uri($"http://127.0.0.1:{FreePort.Get()}");
        await using var client = ClientSilo.NewClient(null, a, b);

        var produce = await Assert.ThrowsAsync<BusUnavailableException>(() => client.ProduceAsync("nowhere", "x\n"));
        await Assert.ThrowsAsync<BusUnavailableException>(() => client.PollAsync("nowhere", "g"));
        await Assert.ThrowsAsync<BusUnavailableException>(() => client.ListCategoriesAsync());

        Assert.Equal(2, produce.Endpoints.Count);
        Assert.Contains(a.Authority, produce.Message, StringComparison.Ordinal);
        Assert.Contains(b.Authority, produce.Message, StringComparison.Ordinal);
        Assert.Equal(0, produce.Status);
    }

    [Fact]
    public async Task Consume_moves_to_the_second_silo_on_a_shared_database_when_the_first_stops()
    {
        using var dir = new TempDirectory("failover");
        var postgres = await PostgresServer.SharedAsync();
        var settings = new Dictionary<string, string>
        {
            ["Metadata"] = "postgres",
            ["PostgresConnectionString"] = await postgres.CreateDatabaseAsync("client_failover_" + Guid.NewGuid().ToString("N")[..12]),
            ["PostgresSchema"] = "bus",
        };
        await using var first = new SiloProcess(dir.Combine("sa", "data"), "sa", settings);
        await using var second = new SiloProcess(dir.Combine("sb", "data"), "sb", settings);
        await first.StartAsync();
        await second.StartAsync();
        List<string> onFirst, onSecond;
        await using (var direct = ClientSilo.NewClient(null, Url(first)))
            onFirst = await ProduceNumberedAsync(direct, "shared", "a", 300);
        await using (var direct = ClientSilo.NewClient(null, Url(second)))
            onSecond = await ProduceNumberedAsync(direct, "shared", "b", 300);

        await using var client = ClientSilo.NewClient(null, Url(first), Url(second));
        var received = new List<string>();
        var options = new ConsumeOptions { AutoAck = true, MaxMessages = 40, WaitTime = TimeSpan.FromSeconds(1) };
        using var timeout = new CancellationTokenSource(Deadline);
        var firstStopped = false;
        await foreach (var delivery in client.ConsumeAsync("shared", "workers", options, timeout.Token))
        {
            received.AddRange(delivery.MessageStrings);
            if (!firstStopped && received.Count == onFirst.Count)
            {
                // Everything the first silo holds came through it; settle the last of it, then take the silo away.
                Assert.Equal(onFirst, received);
                await delivery.AckAsync();
                await first.StopAsync();
                firstStopped = true;
            }
            if (received.Count >= onFirst.Count + onSecond.Count)
            {
                await delivery.AckAsync();
                break;
            }
        }

        Assert.True(firstStopped, $"The consumer never read the first silo's {onFirst.Count} messages on their own; it got {received.Count}.");
        Assert.Equal([.. onFirst, .. onSecond], received);
        Assert.Equal(Url(second), client.CurrentEndpoint);
        Assert.Equal(0, (await client.GetGroupAsync("shared", "workers")).LagMessages);
    }
}
