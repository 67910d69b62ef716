using System.Diagnostics;
using System.Security.Cryptography;
using OrleansBus.Testing;

namespace OrleansBus.IntegrationTests.Cluster;

/// <summary>
/// Azurite is down for 30 s while three silos keep sealing chunks (MaxChunkAge 1 s) under produce and consume through
/// the gateway: nothing is marked archived and no local copy is deleted while it is down; once it is back every chunk
/// is archived with the produced bytes and every message is consumed exactly once.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class BlobOutageClusterTests
{
    private const string Category = "metrics";
    private static readonly TimeSpan Outage = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Blob_store_down_for_30_seconds_while_chunks_seal_loses_nothing()
    {
        await using var cluster = await TestCluster.StartAsync("blob-outage", silos: 3, new ClusterShape
        {
            Azurite = true,
            Gateway = true,
            Settings =
            {
                ["MaxChunkAge"] = "00:00:01",
                ["LocalRetention"] = "00:00:00",
            },
        });
        var producer = new NumberedProducer(cluster.Http, Category, "z", messagesPerBatch: 20);
        var ledger = new GroupLedger(cluster, Category, "dashboards");

        // Before the outage: archiving works, and the group has read what was archived (its local copies are dropped).
        for (var b = 0; b < 10; b++)
            Assert.NotNull(await producer.ProduceNextAsync(cluster.GatewayUrl));
        await cluster.WaitUntilAsync(async () => (await cluster.CatalogAsync(Category)).All(r => r.State == "archived"),
            "the first chunks being archived while Azurite is up", TimeSpan.FromSeconds(30));
        var first = producer.AcknowledgedMessages();
        await ledger.ConsumeAsync(cluster.GatewayUrl, "c0", async () => ledger.HasAll(first) && await ledger.DrainedAsync(cluster.GatewayUrl), TimeSpan.FromSeconds(30));

        await cluster.Azurite!.StopAsync();
        var down = Stopwatch.StartNew();
        var archivedBefore = (await cluster.CatalogAsync(Category)).Select(r => r.Name).ToHashSet(StringComparer.Ordinal);
        var violations = new List<string>();
        var sealedWhileDown = new HashSet<string>(StringComparer.Ordinal);

        var produce = Task.Run(async () =>
        {
            while (down.Elapsed < Outage)
            {
                await producer.ProduceNextAsync(cluster.GatewayUrl);
                await Task.Delay(50); // load shaping: ~15 batches a second, not a wait for a condition
            }
        });
        var consume = Task.Run(() => ledger.ConsumeAsync(cluster.GatewayUrl, "c1", () => Task.FromResult(down.Elapsed >= Outage), Outage + TimeSpan.FromSeconds(30)));
        var watch = Task.Run(async () =>
        {
            while (down.Elapsed < Outage)
            {
                foreach (var row in await cluster.CatalogAsync(Category))
                {
                    if (row.State == "archived" && !archivedBefore.Contains(row.Name))
                        violations.Add($"{row.Name} became archived while Azurite was down.");
                    if (row.State == "sealed")
                    {
                        sealedWhileDown.Add(row.Name);
                        if (!File.Exists(TestCluster.LocalFile(cluster[row.Owner], Category, row.Name)))
                            violations.Add($"{row.Name} is sealed, not archived, but its local file is gone from {row.Owner}.");
                    }
                }
                await Task.Delay(250);
            }
        });
        await Task.WhenAll(produce, consume, watch);
        Assert.True(violations.Count == 0, string.Join('\n', violations.Distinct().Take(10)));
        Assert.True(producer.Failed.IsEmpty, $"{producer.Failed.Count} produces failed while only the blob store was down, e.g. {producer.Failed.Values.FirstOrDefault()}");
        Assert.True(sealedWhileDown.Count >= 6, $"Only {sealedWhileDown.Count} chunks sealed during the {Outage.TotalSeconds:0} s outage.");
        Assert.True(cluster.Silos.Any(s => File.ReadAllText(s.LogPath).Contains("Archive unavailable", StringComparison.Ordinal)),
            $"No silo logged that the archive was unavailable.\n{cluster.Logs()}");

        // Back: every chunk (the last ones seal by age now that produce stopped) is archived with the produced bytes.
        await cluster.Azurite.StartAsync();
        await cluster.WaitUntilAsync(async () => (await cluster.CatalogAsync(Category)).All(r => r.State == "archived"),
            "every chunk sealed during the outage being archived once Azurite was back", TimeSpan.FromSeconds(90));
        var expected = producer.ExpectedChunkBytes();
        var rows = await cluster.CatalogAsync(Category);
        Assert.Equal(expected.Keys.Order(StringComparer.Ordinal), rows.Select(r => r.Name).Order(StringComparer.Ordinal));
        foreach (var (chunk, bytes) in expected)
        {
            var blob = await BlobReader.GetAsync(cluster.Http, cluster.Azurite, cluster.Container, $"{Category}/{chunk}");
            Assert.True(blob is { } b && bytes.AsSpan().SequenceEqual(b.Bytes), $"The blob of {chunk} is missing or differs from the {bytes.Length} bytes produced.");
            Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(bytes)), blob.Value.Sha256);
        }

        var all = producer.AcknowledgedMessages();
        await ledger.ConsumeAsync(cluster.GatewayUrl, "c2", async () => ledger.HasAll(all) && await ledger.DrainedAsync(cluster.GatewayUrl), TimeSpan.FromSeconds(60));
        ledger.AssertAcknowledgedOnce(all);
    }
}
