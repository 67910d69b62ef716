using System.Net.Http.Json;

namespace OrleansBus.IntegrationTests.Cluster;

/// <summary>
/// Three silos write one category at once, rotating chunks as they go: every chunk row is written through the
/// category's grain, and when the writing stops every silo lists exactly the catalog that PostgreSQL holds — the same
/// chunks, owners, states and final sizes — with no silo reading the catalog on a timer.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class CategoryCatalogTests
{
    private const string Category = "shared";

    [Fact]
    public async Task Three_silos_writing_one_category_list_the_same_catalog_as_the_database()
    {
        await using var cluster = await TestCluster.StartAsync("catalog", silos: 3, new ClusterShape
        {
            Settings = { ["MaxChunkBytes"] = "16384" },
        });
        var producer = new NumberedProducer(cluster.Http, Category, "c", messagesPerBatch: 40);
        await Task.WhenAll(cluster.Silos.Select(silo => Task.Run(async () =>
        {
            for (var i = 0; i < 25; i++)
                await producer.ProduceNextAsync(silo.BaseUrl);
        })));
        Assert.True(producer.Failed.IsEmpty, $"Produces failed: {string.Join("; ", producer.Failed.Values.Take(3))}\n{cluster.Logs()}");
        Assert.Equal(["s1", "s2", "s3"], producer.Acknowledged.Values.Select(r => TestCluster.OwnerOf(r.Chunk)).Distinct().Order());

        var rows = await cluster.CatalogAsync(Category);
        Assert.True(rows.Count(r => r.State != "active") >= 6, $"Only {rows.Count(r => r.State != "active")} chunks sealed; the test wants rotations on every silo.");
        string Expected(CatalogRow r) => $"{r.Name} {r.Owner} {(r.State == "active" ? "active" : $"final {r.Size}")}";
        var expected = rows.Select(Expected).Order(StringComparer.Ordinal).ToArray();
        foreach (var silo in cluster.Silos)
        {
            await cluster.WaitUntilAsync(async () =>
            {
                var listed = await cluster.ChunksAsync(silo.BaseUrl, Category);
                var seen = listed.Select(c => $"{c.Name} {c.Owner} {(c.State == "active" ? "active" : $"final {c.Size}")}").Order(StringComparer.Ordinal);
                return seen.SequenceEqual(expected);
            }, $"{silo.SiloId} listing exactly the catalog's {expected.Length} chunks of {Category}", TimeSpan.FromSeconds(10));
        }
        Assert.DoesNotContain(cluster.Silos, s => File.ReadAllText(s.LogPath).Contains("Reading the chunk catalog failed", StringComparison.Ordinal));

        // Settings live in the category grain: changed through s1, every silo that has the category open follows at once,
        // and a produce to s3 that names no durability gets the new default.
        using (var put = await cluster.Http.PutAsync(new Uri($"{cluster["s1"].BaseUrl}/v1/categories/{Category}"),
            new StringContent("""{"maxChunkBytes":4096,"defaultDurability":"fsync"}""", System.Text.Encoding.UTF8, "application/json")))
        {
            Assert.Equal(System.Net.HttpStatusCode.OK, put.StatusCode);
        }
        foreach (var silo in cluster.Silos)
        {
            await cluster.WaitUntilAsync(async () =>
            {
                var info = await cluster.Http.GetFromJsonAsync<OrleansBus.Contracts.CategoryInfo>(new Uri($"{silo.BaseUrl}/v1/categories/{Category}"));
                return info is { MaxChunkBytes: 4096, DefaultDurability: "fsync" };
            }, $"{silo.SiloId} showing the settings changed through s1", TimeSpan.FromSeconds(10));
        }
        var s3 = cluster["s3"];
        var last = await producer.ProduceNextAsync(s3.BaseUrl);
        Assert.True(last is { Durability: "fsync" }, $"A produce to s3 after the change answered {producer.Failed.Values.LastOrDefault() ?? last?.Durability}.");
    }
}
