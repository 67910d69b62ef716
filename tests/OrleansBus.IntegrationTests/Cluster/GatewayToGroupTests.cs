using OrleansBus.Testing;

namespace OrleansBus.IntegrationTests.Cluster;

/// <summary>
/// Three silos behind the gateway: produce spreads over all of them (no key), so each owns chunks; one silo then serves
/// a consumer group over every silo's chunks, pulling the ones it does not hold.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class GatewayToGroupTests
{
    private const int Batches = 220; // 22,000 messages of 36 bytes
    private const int Producers = 6;

    [Fact]
    public async Task Produce_through_the_gateway_to_three_silos_and_consume_through_a_group_on_another_silo_acknowledges_every_message_once()
    {
        await using var cluster = await TestCluster.StartAsync("gw-group", silos: 3, new ClusterShape
        {
            Gateway = true,
            Settings = { ["MaxChunkBytes"] = "131072" },
        });
        var producer = new NumberedProducer(cluster.Http, "orders", "o", messagesPerBatch: 100);

        await Task.WhenAll(Enumerable.Range(0, Producers).Select(_ => Task.Run(async () =>
        {
            while (producer.Sent < Batches)
                await producer.ProduceNextAsync(cluster.GatewayUrl);
        })));
        Assert.True(producer.Failed.IsEmpty, $"{producer.Failed.Count} produces through the gateway failed, e.g. {producer.Failed.Values.FirstOrDefault()}\n{cluster.Logs()}");
        var produced = producer.AcknowledgedMessages();
        Assert.True(produced.Count >= 20_000, $"Only {produced.Count} messages were produced.");
        var owners = producer.Acknowledged.Values.Select(r => TestCluster.OwnerOf(r.Chunk)).Distinct().Order().ToArray();
        Assert.Equal(["s1", "s2", "s3"], owners);

        // Every silo lists every silo's chunks (the shared catalog).
        var consumerSilo = cluster["s3"];
        var listed = await cluster.ChunksAsync(consumerSilo.BaseUrl, producer.Category);
        Assert.Equal(["s1", "s2", "s3"], listed.Select(c => c.Owner).Distinct().Order().ToArray());
        Assert.True(listed.Length > 3, $"Only {listed.Length} chunks; expected several per owner to spread the group.");

        // Two consumers poll s3 only: s3 must serve s1's and s2's chunks too, each range to one consumer, every message once.
        var ledger = new GroupLedger(cluster, producer.Category, "billing");
        var timeout = TimeSpan.FromSeconds(60);
        Task<bool> Done() => ledger.HasAll(produced) ? ledger.DrainedAsync(consumerSilo.BaseUrl) : Task.FromResult(false);
        await Task.WhenAll(
            Task.Run(() => ledger.ConsumeAsync(consumerSilo.BaseUrl, "c1", Done, timeout)),
            Task.Run(() => ledger.ConsumeAsync(consumerSilo.BaseUrl, "c2", Done, timeout)));

        ledger.AssertAcknowledgedOnce(produced);
        var chunks = await cluster.ChunksAsync(consumerSilo.BaseUrl, producer.Category);
        Assert.Equal(produced.Count, chunks.Sum(c => c.Messages));
        ledger.AssertChunksCovered(chunks);
        foreach (var silo in cluster.Silos)
            Assert.True(await ledger.DrainedAsync(silo.BaseUrl), $"Group billing still shows lag on {silo.SiloId} after every message was acknowledged.");
    }
}
