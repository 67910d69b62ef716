using System.Net;
using System.Security.Cryptography;
using OrleansBus.Contracts;
using OrleansBus.Testing;

namespace OrleansBus.IntegrationTests.Cluster;

/// <summary>
/// Issue 19, item 2: the blob store loses an archived chunk (Azurite killed before it saved its metadata did it). While a
/// silo still holds a copy, the chunk goes up again before that copy is dropped — no data is lost. Once no copy is
/// left, a read answers 503 archive_missing with an error log and metric, never a 500.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class ArchiveLossTests
{
    private const string Category = "ledger";

    [Fact]
    public async Task A_blob_lost_before_the_local_copies_go_is_uploaded_again_and_one_lost_after_answers_archive_missing()
    {
        await using var cluster = await TestCluster.StartAsync("archive-loss", silos: 3, new ClusterShape
        {
            Azurite = true,
            Settings =
            {
                ["MaxChunkAge"] = "00:00:02",
                ["MaxChunkBytes"] = "4096",
                // Long enough to delete a blob between its chunk's archiving and the drop of the local copies.
                ["LocalRetention"] = "00:00:15",
            },
        });
        var owner = cluster["s1"];
        var producer = new NumberedProducer(cluster.Http, Category, "l", messagesPerBatch: 10);
        for (var b = 0; b < 20; b++)
            Assert.NotNull(await producer.ProduceNextAsync(owner.BaseUrl));
        var expected = producer.ExpectedChunkBytes();
        Assert.True(expected.Count >= 2, $"Only {expected.Count} chunk(s) were written; the test needs two.");

        var archived = await cluster.WaitForAsync(async () =>
        {
            var listed = await cluster.ChunksAsync(owner.BaseUrl, Category);
            return listed.Length == expected.Count && listed.All(c => c.State == "archived") ? listed : null;
        }, $"all {expected.Count} chunks of {Category} archived", TimeSpan.FromSeconds(30));
        var restored = archived[0];
        var lost = archived[1];
        Assert.True(File.Exists(TestCluster.LocalFile(owner, Category, restored.Name)), "The local copy went before LocalRetention.");

        // The store loses the first chunk while the owner (and its replica) still hold it.
        await BlobReader.DeleteAsync(cluster.Http, cluster.Azurite!, cluster.Container, $"{Category}/{restored.Name}");
        await WaitForNoLocalCopyAsync(cluster, restored.Name);

        var blob = await BlobReader.GetAsync(cluster.Http, cluster.Azurite!, cluster.Container, $"{Category}/{restored.Name}");
        Assert.True(blob is not null, $"Every local copy of {restored.Name} was dropped, but its blob is still gone.");
        Assert.True(expected[restored.Name].AsSpan().SequenceEqual(blob.Value.Bytes), "The blob uploaded again differs from what was produced.");
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(expected[restored.Name])), blob.Value.Sha256);
        var restoredLine = $"{Category}/{restored.Name} ({restored.Size} bytes) was missing from the archive";
        await cluster.WaitForAsync(() => Task.FromResult(cluster.Silos.Any(s => s.LogTail().Contains(restoredLine, StringComparison.Ordinal)) ? "logged" : null),
            $"a silo logging \"{restoredLine}\"", TimeSpan.FromSeconds(10)); // the line travels through the process's output pipe
        foreach (var silo in cluster.Silos)
        {
            var read = await cluster.ReadChunkAsync(silo.BaseUrl, Category, restored.Name, restored.Size);
            Assert.True(expected[restored.Name].AsSpan().SequenceEqual(read), $"{silo.SiloId} read {restored.Name} back wrong.");
        }

        // The second is lost after every copy went: nothing can bring it back, and readers are told so.
        await WaitForNoLocalCopyAsync(cluster, lost.Name);
        await BlobReader.DeleteAsync(cluster.Http, cluster.Azurite!, cluster.Container, $"{Category}/{lost.Name}");
        var reader = cluster["s2"];
        using (var read = await cluster.Http.GetAsync(new Uri($"{reader.BaseUrl}/v1/categories/{Category}/chunks/{lost.Name}?offset=0")))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, read.StatusCode);
            Assert.Equal(("application/problem+json", BusErrorCodes.ArchiveMissing),
                (read.Content.Headers.ContentType?.MediaType, System.Text.Json.JsonDocument.Parse(await read.Content.ReadAsStringAsync()).RootElement.GetProperty("code").GetString()));
        }
        var missingLine = $"Archived chunk {Category}/{lost.Name} is missing from the archive";
        await cluster.WaitForAsync(() => Task.FromResult(reader.LogTail().Contains(missingLine, StringComparison.Ordinal) ? "logged" : null),
            $"{reader.SiloId} logging \"{missingLine}\"", TimeSpan.FromSeconds(10));
        var metrics = await cluster.Http.GetStringAsync(new Uri($"{reader.BaseUrl}/metrics"));
        Assert.Contains(metrics.Split('\n'), line => line.StartsWith("orleansbus_archive_missing_total{", StringComparison.Ordinal)
            && line.Contains($"category=\"{Category}\"", StringComparison.Ordinal) && !line.EndsWith(" 0", StringComparison.Ordinal));
    }

    private static Task WaitForNoLocalCopyAsync(TestCluster cluster, string chunk) =>
        cluster.WaitForAsync(() => Task.FromResult(cluster.Silos.All(s => !File.Exists(TestCluster.LocalFile(s, Category, chunk))) ? "gone" : null),
            $"every silo's local copy of {chunk} dropped", TimeSpan.FromSeconds(45));
}
