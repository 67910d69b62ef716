using System.Security.Cryptography;
using OrleansBus.Contracts;
using OrleansBus.Testing;

namespace OrleansBus.IntegrationTests.Cluster;

/// <summary>
/// Three silos archive to Azurite: a chunk sealed by age is uploaded with its SHA-256, recorded as archived, its local
/// copy dropped at once (LocalRetention 0), and every silo still serves its exact bytes (from a replica or the archive).
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class BlobArchiveClusterTests
{
    private const string Category = "audit";

    [Fact]
    public async Task A_sealed_chunk_is_archived_in_azurite_with_its_hash_then_dropped_locally_and_still_readable_from_every_silo()
    {
        await using var cluster = await TestCluster.StartAsync("archive", silos: 3, new ClusterShape
        {
            Azurite = true,
            Settings =
            {
                ["MaxChunkAge"] = "00:00:02",
                ["MaxChunkBytes"] = "4096",
                ["LocalRetention"] = "00:00:00",
            },
        });
        var owner = cluster["s1"];
        var producer = new NumberedProducer(cluster.Http, Category, "a", messagesPerBatch: 10);
        for (var b = 0; b < 30; b++)
            Assert.NotNull(await producer.ProduceNextAsync(owner.BaseUrl));
        var expected = producer.ExpectedChunkBytes();
        Assert.True(expected.Count >= 2, $"Only {expected.Count} chunk(s) were written; expected the 4 KiB limit to rotate.");

        // The last chunk seals by age (2 s), the others by size; then each is uploaded, verified, and dropped locally.
        var chunks = await cluster.WaitForAsync(async () =>
        {
            var listed = await cluster.ChunksAsync(owner.BaseUrl, Category);
            var done = listed.Length == expected.Count && listed.All(c => c.State == "archived")
                && listed.All(c => !File.Exists(TestCluster.LocalFile(owner, Category, c.Name)));
            return done ? listed : null;
        }, $"all {expected.Count} chunks of {Category} archived and their local files gone from {owner.SiloId}", TimeSpan.FromSeconds(45));

        foreach (var chunk in chunks)
        {
            var bytes = expected[chunk.Name];
            Assert.Equal((bytes.LongLength, (long)bytes.AsSpan().Count((byte)'\n')), (chunk.Size, chunk.Messages));
            var blob = await BlobReader.GetAsync(cluster.Http, cluster.Azurite!, cluster.Container, $"{Category}/{chunk.Name}");
            Assert.True(blob is not null, $"The catalog says {chunk.Name} is archived, but Azurite has no blob {cluster.Container}/{Category}/{chunk.Name}.");
            Assert.True(bytes.AsSpan().SequenceEqual(blob.Value.Bytes), $"The blob of {chunk.Name} ({blob.Value.Bytes.Length} bytes) differs from what was produced ({bytes.Length} bytes).");
            Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(bytes)), blob.Value.Sha256);
            Assert.False(File.Exists(TestCluster.LocalFile(owner, Category, chunk.Name) + ".idx"), $"The index of archived {chunk.Name} is still on {owner.SiloId}.");

            foreach (var silo in cluster.Silos)
            {
                var listed = (await cluster.ChunksAsync(silo.BaseUrl, Category)).SingleOrDefault(c => c.Name == chunk.Name);
                Assert.True(listed is { State: "archived" }, $"{silo.SiloId} lists {chunk.Name} as {listed?.State ?? "missing"}, not archived.");
                var read = await cluster.ReadChunkAsync(silo.BaseUrl, Category, chunk.Name, chunk.Size);
                Assert.True(bytes.AsSpan().SequenceEqual(read), $"A raw read of {chunk.Name} from {silo.SiloId} returned {read.Length} bytes that differ from the {bytes.Length} produced.");
            }
        }
    }
}
