using System.Net;
using System.Text;
using OrleansBus.Contracts;

namespace OrleansBus.IntegrationTests.Cluster;

/// <summary>
/// Retention on three silo processes (PostgreSQL, Azurite, replication factor 2): once the category grain expires a
/// chunk, no silo keeps its file or copy and the blob is gone — also for a dead owner's chunks, whose files go when
/// that silo starts again (never served again, never resurrected), and every silo answers 410 for them.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class ClusterRetentionTests
{
    private const string Category = "trail";
    private const int BatchBytes = 1000; // ten 100-byte messages; four fill a 4 KiB chunk

    [Fact]
    public async Task Expired_chunks_leave_no_file_copy_or_blob_on_any_silo_and_a_dead_owner_deletes_its_own_when_it_restarts()
    {
        await using var cluster = await TestCluster.StartAsync("retention", silos: 3, new ClusterShape
        {
            Azurite = true,
            Settings = { ["MaxChunkBytes"] = "4096", ["RetentionCheckInterval"] = "00:00:01", ["LocalRetention"] = "01:00:00" },
        });
        // Each silo writes two whole chunks and starts a third: six sealed chunks, three owners.
        foreach (var silo in cluster.Silos)
        {
            for (var b = 0; b < 9; b++)
                await ProduceAsync(cluster, silo.BaseUrl, $"{silo.SiloId}-{b}");
        }
        var sealedChunks = await cluster.WaitForAsync(async () =>
        {
            var listed = await cluster.ChunksAsync(cluster["s1"].BaseUrl, Category);
            var done = listed.Where(c => c.State == "archived").ToArray();
            return done.Length == 6 ? done : null;
        }, "six chunks archived", TimeSpan.FromSeconds(60));
        Assert.All(cluster.Silos, silo => Assert.Contains(sealedChunks, c => TestCluster.OwnerOf(c.Name) == silo.SiloId));
        var dead = cluster["s3"];
        var deadOwn = sealedChunks.Where(c => TestCluster.OwnerOf(c.Name) == dead.SiloId).Select(c => c.Name).ToList();
        Assert.All(deadOwn, name => Assert.True(File.Exists(TestCluster.LocalFile(dead, Category, name)), $"s3 has no file of its own {name}"));

        await dead.KillAsync();
        var survivors = cluster.Silos.Where(s => s != dead).ToArray();
        // 2,000 bytes: every 4,000-byte chunk must go (the grain may be moving off the dead silo: retried).
        await cluster.WaitForAsync(async () =>
        {
            using var put = await cluster.Http.PutAsync(new Uri($"{survivors[0].BaseUrl}/v1/categories/{Category}"),
                new StringContent("""{"retentionBytes":2000}""", Encoding.UTF8, "application/json"));
            return put.StatusCode == HttpStatusCode.OK ? "set" : null;
        }, "retentionBytes set through a survivor", TimeSpan.FromSeconds(30));
        await cluster.WaitForAsync(async () =>
        {
            var listed = await cluster.ChunksAsync(survivors[0].BaseUrl, Category);
            return sealedChunks.All(s => listed.Single(c => c.Name == s.Name).State == "expired") ? "expired" : null;
        }, "the six chunks expired in the catalog", TimeSpan.FromSeconds(30));

        foreach (var chunk in sealedChunks)
        {
            await cluster.WaitForAsync(() => Task.FromResult(survivors.All(s => NoFiles(s, chunk.Name)) ? "gone" : null),
                $"every survivor's file and copy of {chunk.Name} deleted", TimeSpan.FromSeconds(45)); // a moved grain's silos catch up within a resubscription (20 s)
            await cluster.WaitForAsync(async () => await BlobReader.GetAsync(cluster.Http, cluster.Azurite!, cluster.Container, $"{Category}/{chunk.Name}") is null ? "gone" : null,
                $"the blob of {chunk.Name} deleted", TimeSpan.FromSeconds(20));
        }
        Assert.All(deadOwn, name => Assert.True(File.Exists(TestCluster.LocalFile(dead, Category, name)), "the dead silo's files went while it was down?"));

        // The dead owner comes back: its recovery finds the rows expired and deletes what it still held.
        await dead.RestartAsync();
        Assert.All(sealedChunks, chunk => Assert.True(NoFiles(dead, chunk.Name), $"s3 kept a file of expired {chunk.Name} after its restart"));
        foreach (var silo in cluster.Silos)
        {
            using var read = await cluster.Http.GetAsync(new Uri($"{silo.BaseUrl}/v1/categories/{Category}/chunks/{deadOwn[0]}?offset=0"));
            Assert.Equal(HttpStatusCode.Gone, read.StatusCode);
            Assert.Contains(BusErrorCodes.ChunkExpired, await read.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }
    }

    private static bool NoFiles(Testing.SiloProcess silo, string chunk)
    {
        var data = TestCluster.LocalFile(silo, Category, chunk);
        return !File.Exists(data) && !File.Exists(data + ".idx") && !File.Exists(Path.Combine(silo.DataDir, "cache", Category, chunk));
    }

    private static async Task ProduceAsync(TestCluster cluster, string baseUrl, string prefix)
    {
        var body = new StringBuilder();
        for (var i = 0; i < 10; i++)
            body.Append($"{prefix}-{i}".PadRight(99, '.')).Append('\n');
        Assert.Equal(BatchBytes, body.Length);
        using var response = await cluster.Http.PostAsync(new Uri($"{baseUrl}/v1/categories/{Category}/messages"), new StringContent(body.ToString()));
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"produce to {baseUrl}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
    }
}
