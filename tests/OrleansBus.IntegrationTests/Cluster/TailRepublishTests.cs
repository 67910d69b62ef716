using OrleansBus.Testing;

namespace OrleansBus.IntegrationTests.Cluster;

/// <summary>
/// A replica that lags (SIGSTOPped) seals its dead owner's chunk at the size it holds, which is less than the owner
/// wrote and acknowledged (page-cache). The restarted owner must cut its tail past that size and re-publish it as a new
/// chunk, so every acknowledged message stays readable, exactly once.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class TailRepublishTests
{
    private const string Category = "ledger";

    [Fact]
    public async Task A_restarted_owner_republishes_the_tail_a_replica_never_received()
    {
        await using var cluster = await TestCluster.StartAsync("republish", silos: 2, new ClusterShape
        {
            Settings = { ["MaxChunkBytes"] = "4194304" },
        });
        var owner = cluster["s1"];
        var replica = cluster["s2"];
        var producer = new NumberedProducer(cluster.Http, Category, "t", messagesPerBatch: 20);

        // Phase 1: acknowledged only once s2 holds them, so s2 has a copy of the chunk up to here.
        for (var b = 0; b < 5; b++)
        {
            var result = await producer.ProduceNextAsync(owner.BaseUrl, "min_sync_replicas=1");
            Assert.True(result is { Durability: "replicas:1" }, $"A min_sync_replicas=1 produce failed: {producer.Failed.Values.LastOrDefault()}\n{cluster.Logs()}");
        }
        var chunk = producer.Acknowledged.Values.Single(r => r.Offset == 0).Chunk;
        var replicatedEnd = producer.Acknowledged.Values.Max(r => r.Offset + r.Length);

        // Phase 2: s2 frozen; s1 acknowledges page-cache batches that only it holds, then dies.
        long written;
        ProcessPause.Stop(replica.Pid);
        try
        {
            for (var b = 0; b < 20; b++)
                Assert.NotNull(await producer.ProduceNextAsync(owner.BaseUrl));
            Assert.True(producer.Acknowledged.Values.All(r => r.Chunk == chunk), "The owner rotated to another chunk; the tail would not be in one chunk.");
            written = producer.Acknowledged.Values.Max(r => r.Offset + r.Length);
            await owner.KillAsync();
        }
        finally
        {
            ProcessPause.Continue(replica.Pid);
        }

        // s2 seals the dead owner's chunk at what it holds: at least the replicated part, less than the owner wrote.
        var sealedRow = await cluster.WaitForAsync(async () =>
            (await cluster.CatalogAsync(Category)).SingleOrDefault(r => r.Name == chunk && r.State != "active"),
            $"{replica.SiloId} sealing {chunk} of the killed owner", TestCluster.OwnerDeadAfter + TimeSpan.FromSeconds(15));
        Assert.Equal("s2", sealedRow.SealedBy);
        Assert.True(sealedRow.Size >= replicatedEnd && sealedRow.Size < written,
            $"{chunk} was sealed at {sealedRow.Size} bytes; expected at least the {replicatedEnd} replicated before the pause and less than the {written} the owner wrote.");

        // The owner restarts, cuts its chunk back to the sealed size and re-publishes the rest as a new chunk of its own.
        await owner.StartAsync();
        var log = await File.ReadAllTextAsync(owner.LogPath);
        Assert.True(log.Contains("re-publishing", StringComparison.Ordinal), $"The restarted owner's log does not mention re-publishing its tail.\n{cluster.Logs()}");
        var chunks = await cluster.ChunksAsync(owner.BaseUrl, Category);
        var republished = chunks.Where(c => c.Owner == owner.SiloId && c.Name != chunk).ToArray();
        Assert.True(republished.Length == 1 && republished[0].Size == written - sealedRow.Size,
            $"Expected one new chunk of {owner.SiloId} holding the {written - sealedRow.Size} tail bytes; chunks: " +
            string.Join(", ", chunks.Select(c => $"{c.Name}={c.State}/{c.Size}")));
        Assert.Equal(sealedRow.Size, chunks.Single(c => c.Name == chunk).Size);

        // The re-published chunk was opened during recovery, before the restarted owner joined the membership table; it
        // must still be replicated, so a produce that needs a replica lands in it and succeeds.
        await cluster.WaitForMembersAsync(cluster.Silos, TimeSpan.FromSeconds(15));
        var after = await producer.ProduceNextAsync(owner.BaseUrl, "min_sync_replicas=1");
        Assert.True(after is { Durability: "replicas:1" } && after.Chunk == republished[0].Name,
            $"A min_sync_replicas=1 produce to the restarted owner answered {producer.Failed.Values.LastOrDefault() ?? $"{after?.Chunk} {after?.Durability}"} " +
            $"(expected replicas:1 in {republished[0].Name}).\n{cluster.Logs()}");

        var acknowledged = producer.AcknowledgedMessages();
        var ledger = new GroupLedger(cluster, Category, "auditors");
        await ledger.ConsumeAsync(replica.BaseUrl, "c1", async () => ledger.HasAll(acknowledged) && await ledger.DrainedAsync(replica.BaseUrl), TimeSpan.FromSeconds(45));
        ledger.AssertAcknowledgedOnce(acknowledged);
        ledger.AssertChunksCovered(await cluster.ChunksAsync(replica.BaseUrl, Category));
    }
}
