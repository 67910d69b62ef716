using OrleansBus.Contracts.Grains;

namespace OrleansBus.IntegrationTests.Cluster;

/// <summary>
/// The silo hosting a consumer group's grain is SIGKILLed in the middle of consumption: the grain comes back on another
/// silo with every acknowledged offset, the deliveries that were out are delivered again, and in the end every message
/// was acknowledged exactly once.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class GroupGrainFailoverTests
{
    private const string Group = "billing";

    [Fact]
    public async Task Killing_the_silo_that_hosts_the_group_grain_mid_consumption_loses_no_offset_and_acknowledges_every_message_once()
    {
        await using var cluster = await TestCluster.StartAsync("group-failover", silos: 3, new ClusterShape
        {
            Settings = { ["MaxChunkBytes"] = "65536" },
        });
        var producer = new NumberedProducer(cluster.Http, "orders", "o", messagesPerBatch: 100);
        await Task.WhenAll(cluster.Silos.Select(silo => Task.Run(async () =>
        {
            for (var i = 0; i < 30; i++)
                await producer.ProduceNextAsync(silo.BaseUrl, "?min_sync_replicas=1");
        })));
        Assert.True(producer.Failed.IsEmpty, $"Produces failed: {producer.Failed.Values.FirstOrDefault()}\n{cluster.Logs()}");
        var produced = producer.AcknowledgedMessages();

        // The group's first poll activates its grain somewhere; consumers then poll the two other silos only.
        await using var orleans = await ClusterClient.ConnectAsync(cluster);
        var ledger = new GroupLedger(cluster, producer.Category, Group);
        using (await cluster.Http.PostAsync(new Uri($"{cluster["s1"].BaseUrl}/v1/categories/{producer.Category}/groups/{Group}/poll?max_messages=1&lease_ms=1"), null))
        {
        }
        var grain = orleans.Client.GetGrain<IConsumerGroupGrain>(GrainKeys.ConsumerGroup(producer.Category, Group));
        var victim = cluster[await grain.HostAsync()];
        var survivors = cluster.Silos.Where(s => s != victim).ToArray();

        var timeout = TimeSpan.FromSeconds(90);
        async Task<bool> Done() => ledger.HasAll(produced) && await ledger.DrainedAsync(survivors[0].BaseUrl);
        // 50 messages a delivery: 180 deliveries, so the kill below lands mid-run (with 500, two consumers sometimes
        // finished all 9,000 before it did).
        var consumers = survivors.Select((silo, i) => Task.Run(() => ledger.ConsumeAsync(silo.BaseUrl, $"c{i}", Done, timeout, maxMessages: 50))).ToArray();
        await cluster.WaitUntilAsync(() => Task.FromResult(ledger.DistinctAcknowledged >= produced.Count / 3),
            "a third of the messages acknowledged before the kill", TimeSpan.FromSeconds(60));
        ledger.AllowLeaseLost = true;
        await victim.KillAsync();
        var atKill = ledger.DistinctAcknowledged;
        Assert.True(atKill < produced.Count, $"All {produced.Count} messages were acknowledged before the kill; it hit nothing.");
        await Task.WhenAll(consumers);

        ledger.AssertAcknowledgedOnce(produced);
        var host = await grain.HostAsync();
        Assert.NotEqual(victim.SiloId, host);
        foreach (var silo in survivors)
            Assert.True(await ledger.DrainedAsync(silo.BaseUrl), $"Group {Group} still shows lag on {silo.SiloId} after every message was acknowledged.");
    }
}
