namespace OrleansBus.IntegrationTests.Cluster;

/// <summary>
/// With replication factor 3 a dead owner's active chunk has two replicas, and both see the owner declared dead by
/// Orleans: exactly one of them seals it, at the size the replicas hold, and both then serve the same bytes.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class OwnerSealTests
{
    private const string Category = "receipts";

    [Fact]
    public async Task A_killed_owners_active_chunk_is_sealed_by_exactly_one_of_its_two_replicas_at_the_replicated_size()
    {
        await using var cluster = await TestCluster.StartAsync("one-sealer", silos: 3, new ClusterShape
        {
            Settings = { ["ReplicationFactor"] = "3", ["MaxChunkBytes"] = "4194304" },
        });
        var owner = cluster["s1"];
        var producer = new NumberedProducer(cluster.Http, Category, "r", messagesPerBatch: 25);
        for (var i = 0; i < 40; i++)
        {
            Assert.True(await producer.ProduceNextAsync(owner.BaseUrl, "min_sync_replicas=2") is { Durability: "replicas:2" },
                $"A produce needing both replicas failed: {producer.Failed.Values.LastOrDefault()}\n{cluster.Logs()}");
        }
        var chunk = producer.Acknowledged.Values.Select(r => r.Chunk).Distinct().Single();
        var acknowledgedEnd = producer.Acknowledged.Values.Max(r => r.Offset + r.Length);

        await owner.KillAsync();
        var sealedRow = await cluster.WaitForAsync(async () => (await cluster.CatalogAsync(Category)).SingleOrDefault(r => r.Name == chunk && r.State != "active"),
            $"{chunk} sealed after its owner was killed", TimeSpan.FromSeconds(40));

        // Every acknowledged byte was on both replicas, so the seal is exactly the acknowledged end.
        Assert.Equal(acknowledgedEnd, sealedRow.Size);
        // The catalog names the sealer; that silo says so in its log (written just after the catalog answered).
        var line = $"Sealed {Category}/{chunk} for its dead owner";
        var sealer = cluster[sealedRow.SealedBy!];
        await cluster.WaitUntilAsync(() => Task.FromResult(File.ReadAllText(sealer.LogPath).Contains(line, StringComparison.Ordinal)),
            $"{sealer.SiloId} logging that it sealed {chunk}", TimeSpan.FromSeconds(10));

        var fromS2 = await cluster.ReadChunkAsync(cluster["s2"].BaseUrl, Category, chunk, sealedRow.Size);
        var fromS3 = await cluster.ReadChunkAsync(cluster["s3"].BaseUrl, Category, chunk, sealedRow.Size);
        Assert.True(fromS2.AsSpan().SequenceEqual(fromS3), $"s2 and s3 serve different bytes of the sealed {chunk}.");
        Assert.Equal(sealedRow.Size, fromS2.Length);

        // By now the other replica has had its turns at the decision too: the catalog refused it, so it sealed nothing.
        var other = sealer.SiloId == "s2" ? cluster["s3"] : cluster["s2"];
        Assert.True(!File.ReadAllText(other.LogPath).Contains(line, StringComparison.Ordinal),
            $"{other.SiloId} also logged sealing {chunk}; only {sealer.SiloId} did in the catalog.\n{cluster.Logs()}");
    }
}
