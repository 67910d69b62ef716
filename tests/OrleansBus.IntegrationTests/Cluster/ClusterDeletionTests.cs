using System.Net;
using System.Net.Http.Json;
using System.Text;
using OrleansBus.Contracts;

namespace OrleansBus.IntegrationTests.Cluster;

/// <summary>
/// <c>DELETE /v1/categories/{c}</c> on three silo processes (PostgreSQL, Azurite, replication factor 2) while producers
/// and a consumer run and one silo is down: writers get 409 <c>category_deleting</c>, and once GET answers 404 no live
/// silo holds a file or download of it, PostgreSQL holds no chunk, replica, category or group row of it, and Azurite no
/// blob; the silo that was down deletes its folder when it starts; the same name then starts afresh.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class ClusterDeletionTests
{
    private const string Category = "doomed";

    // The consumer groups' grain state (keys "<category>/<group>"; a cleared state keeps its row with no payload).
    private const string GroupRows = "SELECT count(*) FROM orleans_storage WHERE grain_id_ext LIKE @c || '/%' AND payload IS NOT NULL";

    [Fact]
    public async Task Delete_while_writing_and_reading_leaves_no_file_row_blob_or_group_and_a_silo_down_meanwhile_cleans_up_when_it_starts()
    {
        await using var cluster = await TestCluster.StartAsync("deletion", silos: 3, new ClusterShape
        {
            Azurite = true,
            Settings = { ["MaxChunkBytes"] = "4096", ["LocalRetention"] = "01:00:00" },
        });
        foreach (var silo in cluster.Silos)
        {
            for (var b = 0; b < 9; b++)
                Assert.Equal(HttpStatusCode.OK, await ProduceAsync(cluster, silo.BaseUrl, $"{silo.SiloId}-{b}"));
        }
        var before = await cluster.WaitForAsync(async () =>
        {
            var listed = await cluster.ChunksAsync(cluster["s1"].BaseUrl, Category);
            return listed.Count(c => c.State == "archived") == 6 ? listed : null;
        }, "six chunks archived", TimeSpan.FromSeconds(60));
        foreach (var group in (string[])["g1", "g2"])
            Assert.Equal(HttpStatusCode.OK, (await PollAsync(cluster, cluster["s1"].BaseUrl, group)).Status);
        Assert.Equal(2, await cluster.CountAsync(GroupRows, Category));
        Assert.NotEmpty(await BlobReader.ListAsync(cluster.Http, cluster.Azurite!, cluster.Container, Category + "/"));

        var down = cluster["s3"];
        await down.KillAsync();
        Assert.True(Directory.Exists(Path.Combine(down.DataDir, "categories", Category)), "s3 holds no folder of the category");
        var up = cluster.Silos.Where(s => s != down).ToArray();

        // Writers and a reader, each until its first refusal (bounded).
        var progress = new int[3]; // messages accepted through up[0], up[1]; deliveries acknowledged
        var producers = up.Select((s, i) => Task.Run(() => ProduceUntilRefusedAsync(cluster, s.BaseUrl, progress, i))).ToArray();
        var consumer = Task.Run(() => ConsumeUntilRefusedAsync(cluster, up[1].BaseUrl, progress));
        // Until each of them got through once (the groups' or the category's grain may have been on the dead silo).
        await cluster.WaitUntilAsync(() => Task.FromResult(Enumerable.Range(0, 3).All(i => Volatile.Read(ref progress[i]) > 0)), "producers and consumer under way", TimeSpan.FromSeconds(30));

        // The category grain may have been on the dead silo: the call is refused (503) until Orleans moves it.
        var deletion = await cluster.WaitForAsync(async () =>
        {
            using var response = await cluster.Http.DeleteAsync(new Uri($"{up[0].BaseUrl}/v1/categories/{Category}"));
            return response.StatusCode == HttpStatusCode.Accepted ? await response.Content.ReadFromJsonAsync<CategoryInfo>() : null;
        }, "DELETE answered 202", TimeSpan.FromSeconds(30));
        Assert.Equal(CategoryStates.Deleting, deletion.State);

        foreach (var silo in up)
        {
            await cluster.WaitUntilAsync(async () =>
            {
                using var get = await cluster.Http.GetAsync(new Uri($"{silo.BaseUrl}/v1/categories/{Category}"));
                return get.StatusCode == HttpStatusCode.NotFound;
            }, $"{silo.SiloId} answers 404 for the deleted category", TimeSpan.FromSeconds(45));
        }
        foreach (var (produced, silo) in (await Task.WhenAll(producers)).Zip(up))
        {
            Assert.True(produced.Accepted > 0, $"the producer on {silo.SiloId} wrote nothing before the deletion");
            Assert.Equal(BusErrorCodes.CategoryDeleting, produced.RefusedWith);
        }
        var consumed = await consumer;
        Assert.True(consumed.Deliveries > 0, "the consumer read nothing before the deletion");

        // Nothing left: files and downloads on the live silos, rows in PostgreSQL, blobs in Azurite, group state.
        foreach (var silo in up)
        {
            Assert.False(Directory.Exists(Path.Combine(silo.DataDir, "categories", Category)), $"{silo.SiloId} kept the category's folder");
            Assert.False(Directory.Exists(Path.Combine(silo.DataDir, "cache", Category)), $"{silo.SiloId} kept downloads of the category");
        }
        Assert.Empty(await cluster.CatalogAsync(Category));
        Assert.Equal(0, await cluster.CountAsync("SELECT count(*) FROM chunk_replicas WHERE category = @c", Category));
        Assert.Equal(0, await cluster.CountAsync("SELECT count(*) FROM categories WHERE name = @c", Category));
        Assert.Equal(0, await cluster.CountAsync(GroupRows, Category));
        await cluster.WaitUntilAsync(async () => (await BlobReader.ListAsync(cluster.Http, cluster.Azurite!, cluster.Container, Category + "/")).Length == 0,
            "no blob of the category in Azurite (an upload that lands late deletes its own)", TimeSpan.FromSeconds(20));

        // The silo that was down: its folder goes when it starts, before it serves anything.
        Assert.True(Directory.Exists(Path.Combine(down.DataDir, "categories", Category)), "s3's folder went while it was down?");
        await down.RestartAsync();
        Assert.False(Directory.Exists(Path.Combine(down.DataDir, "categories", Category)), "s3 kept the deleted category's folder after its start");

        // The same name again: a new category with new chunk names and no groups.
        Assert.Equal(HttpStatusCode.OK, await ProduceAsync(cluster, down.BaseUrl, "reborn"));
        var after = await cluster.ChunksAsync(down.BaseUrl, Category);
        var fresh = Assert.Single(after);
        Assert.DoesNotContain(before, c => c.Name == fresh.Name);
        using var status = await cluster.Http.GetAsync(new Uri($"{up[0].BaseUrl}/v1/categories/{Category}/groups/g1"));
        Assert.Equal(HttpStatusCode.NotFound, status.StatusCode);
        Assert.Contains(BusErrorCodes.GroupNotFound, await status.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    private static async Task<(int Accepted, string? RefusedWith)> ProduceUntilRefusedAsync(TestCluster cluster, string baseUrl, int[] progress, int slot)
    {
        var accepted = 0;
        for (var i = 0; i < 5000; i++)
        {
            using var response = await cluster.Http.PostAsync(new Uri($"{baseUrl}/v1/categories/{Category}/messages"), new StringContent($"during-{i}\n"));
            if (Refused(response.StatusCode))
                return (accepted, await CodeAsync(response));
            if (response.StatusCode == HttpStatusCode.OK)
                Interlocked.Exchange(ref progress[slot], ++accepted);
            await Task.Delay(5); // else: the cluster is still noticing the dead silo (503): again
        }
        return (accepted, null);
    }

    private static async Task<(int Deliveries, string? RefusedWith)> ConsumeUntilRefusedAsync(TestCluster cluster, string baseUrl, int[] progress)
    {
        var deliveries = 0;
        for (var i = 0; i < 5000; i++)
        {
            var (status, token, code) = await PollAsync(cluster, baseUrl, "g1");
            if (Refused(status))
                return (deliveries, code);
            if (token is null)
            {
                await Task.Delay(5);
                continue; // nothing new, or the cluster is still noticing the dead silo (503)
            }
            deliveries++;
            using var ack = await cluster.Http.PostAsJsonAsync(new Uri($"{baseUrl}/v1/categories/{Category}/groups/g1/ack"), new AckRequest(token));
            if (Refused(ack.StatusCode))
                return (deliveries, await CodeAsync(ack));
            Interlocked.Exchange(ref progress[2], deliveries);
        }
        return (deliveries, null);
    }

    /// <summary>The category is being deleted or gone (409, 404); a 503 while a dead silo is noticed is not a refusal.</summary>
    private static bool Refused(HttpStatusCode status) => status is HttpStatusCode.Conflict or HttpStatusCode.NotFound;

    private static async Task<(HttpStatusCode Status, string? Token, string? Code)> PollAsync(TestCluster cluster, string baseUrl, string group)
    {
        using var response = await cluster.Http.PostAsync(new Uri($"{baseUrl}/v1/categories/{Category}/groups/{group}/poll?max_messages=20&wait_ms=200"), null);
        var token = response.Headers.TryGetValues(BusHeaders.Delivery, out var values) ? values.Single() : null;
        return (response.StatusCode, token, response.IsSuccessStatusCode ? null : await CodeAsync(response));
    }

    private static async Task<string?> CodeAsync(HttpResponseMessage response)
    {
        var body = await response.Content.ReadAsStringAsync();
        try
        {
            using var json = System.Text.Json.JsonDocument.Parse(body);
            return json.RootElement.TryGetProperty("code", out var code) ? code.GetString() : body;
        }
        catch (System.Text.Json.JsonException)
        {
            return body;
        }
    }

    private static async Task<HttpStatusCode> ProduceAsync(TestCluster cluster, string baseUrl, string prefix)
    {
        var body = new StringBuilder();
        for (var i = 0; i < 10; i++)
            body.Append($"{prefix}-{i}".PadRight(99, '.')).Append('\n');
        using var response = await cluster.Http.PostAsync(new Uri($"{baseUrl}/v1/categories/{Category}/messages"), new StringContent(body.ToString()));
        return response.StatusCode;
    }
}
