using System.Net;
using System.Net.Http.Json;
using OrleansBus.Contracts;
using static OrleansBus.Silo.Tests.Api.SiloHttp;

namespace OrleansBus.Silo.Tests.Api;

/// <summary>
/// <c>DELETE /v1/categories/{c}</c> on a real silo (its SQLite catalog, grain state and local archive): the deletion
/// answers 202 and refuses every write from then on; sent again it reports the same deletion; a silo stopped in the
/// middle finishes it when it starts again; then the category is gone — files, downloads, blobs, rows, groups — and a
/// category of the same name starts afresh with new chunk names.
/// </summary>
public sealed class CategoryDeletionTests
{
    // A deletion that never takes its next step: what the API answers while one is under way can be looked at at leisure.
    private static readonly (string, string) Stalled = ("Bus:DeletionStepInterval", "01:00:00");
    private const string OneKiBChunks = """{"maxChunkBytes":1024}""";

    [Fact]
    public async Task A_deletion_refuses_writes_while_it_runs_a_restart_finishes_it_and_the_name_starts_afresh()
    {
        var root = Path.Combine(Path.GetTempPath(), "obus-tests", "delete-" + Guid.NewGuid().ToString("N")[..12]);
        var dataDir = Path.Combine(root, "data");
        try
        {
            var c = NewCategory("del");
            ChunkInfo[] before;
            await using (var silo = SiloApiFactory.OnDataDir(dataDir, Stalled))
            {
                using var client = silo.CreateClient();
                await PutCategoryAsync(client, c, OneKiBChunks);
                for (var i = 0; i < 3; i++)
                    await ProduceAsync(client, c, Lines(10, 100, (byte)('a' + i))); // two sealed chunks, the third active
                await WaitUntilAsync(TimeSpan.FromSeconds(30), async () => (await ListChunksAsync(client, c)).Count(k => k.State == "archived") == 2, "two chunks archived");
                using (var poll = await PollAsync(client, c, "g", maxMessages: 5))
                    await AssertStatusAsync(poll, HttpStatusCode.OK);
                before = await ListChunksAsync(client, c);

                using var deleted = await client.DeleteAsync(new Uri($"/v1/categories/{c}", UriKind.Relative));

                await AssertStatusAsync(deleted, HttpStatusCode.Accepted);
                var started = (await deleted.Content.ReadFromJsonAsync<CategoryInfo>())!;
                Assert.Equal((c, CategoryStates.Deleting, 1024L), (started.Name, started.State, started.MaxChunkBytes));
                Assert.Equal((3, 1), (started.Deletion!.ChunksLeft, started.Deletion.GroupsLeft));

                // Every write is refused and writes nothing; reads of the category find nothing.
                using (var produce = await PostRawAsync(client, c, Lines(1, 10)))
                    await AssertProblemAsync(produce, HttpStatusCode.Conflict, BusErrorCodes.CategoryDeleting);
                using (var put = await PutCategoryRawAsync(client, c, """{"retentionMs":1000}"""))
                    await AssertProblemAsync(put, HttpStatusCode.Conflict, BusErrorCodes.CategoryDeleting);
                using (var poll = await PollAsync(client, c, "fresh", maxMessages: 5))
                    Assert.NotEqual(HttpStatusCode.OK, poll.StatusCode);
                Assert.DoesNotContain(await ListCategoriesAsync(client), k => k.Name == c);
                var again = await GetCategoryAsync(client, c);
                Assert.Equal((CategoryStates.Deleting, started.Deletion.StartedAtMs), (again.State, again.Deletion!.StartedAtMs));
                using (var twice = await client.DeleteAsync(new Uri($"/v1/categories/{c}", UriKind.Relative)))
                {
                    await AssertStatusAsync(twice, HttpStatusCode.Accepted);
                    Assert.Equal(started.Deletion.StartedAtMs, (await twice.Content.ReadFromJsonAsync<CategoryInfo>())!.Deletion!.StartedAtMs);
                }
                // This silo dropped it: its files are gone, though rows, group and blobs wait for the next step.
                await WaitUntilAsync(TimeSpan.FromSeconds(30), () => Task.FromResult(!Directory.Exists(Path.Combine(silo.CategoriesDir, c))), "the category's folder deleted");
                Assert.True(File.Exists(Path.Combine(dataDir, "archive", c, before[0].Name)), "the blob went before its step");
            }

            // Stopped mid-deletion: the next start carries it on and finishes it.
            await using (var silo = SiloApiFactory.OnDataDir(dataDir))
            {
                using var client = silo.CreateClient();
                await WaitUntilAsync(TimeSpan.FromSeconds(30), async () =>
                {
                    using var get = await client.GetAsync(new Uri($"/v1/categories/{c}", UriKind.Relative));
                    return get.StatusCode == HttpStatusCode.NotFound;
                }, "the deletion done (GET answers 404)");
                using (var gone = await client.DeleteAsync(new Uri($"/v1/categories/{c}", UriKind.Relative)))
                    await AssertProblemAsync(gone, HttpStatusCode.NotFound, BusErrorCodes.CategoryNotFound);
                Assert.False(Directory.Exists(Path.Combine(dataDir, "archive", c)) && Directory.EnumerateFiles(Path.Combine(dataDir, "archive", c)).Any(),
                    "blobs of the deleted category are left in the archive");
                Assert.False(Directory.Exists(Path.Combine(silo.CategoriesDir, c)), "the deleted category's folder came back");

                // The same name again: a new category, new chunk names, and the old group is not there.
                var produced = await ProduceAsync(client, c, "again\n");
                Assert.DoesNotContain(before, k => k.Name == produced.Chunk);
                Assert.Equal(0, produced.Offset);
                using (var status = await client.GetAsync(new Uri($"/v1/categories/{c}/groups/g", UriKind.Relative)))
                    await AssertProblemAsync(status, HttpStatusCode.NotFound, BusErrorCodes.GroupNotFound);
                using (var poll = await PollAsync(client, c, "g", maxMessages: 100))
                {
                    await AssertStatusAsync(poll, HttpStatusCode.OK);
                    Assert.Equal("again\n", await poll.Content.ReadAsStringAsync());
                }
                var info = await GetCategoryAsync(client, c);
                Assert.Equal((CategoryStates.Live, 1L << 26), (info.State, info.MaxChunkBytes)); // the old settings went too
            }
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    [Fact]
    public async Task Deleting_an_unknown_category_is_404_and_changes_nothing()
    {
        using var silo = new SiloApiFactory();
        using var client = silo.CreateClient();
        var c = NewCategory("never");

        using var response = await client.DeleteAsync(new Uri($"/v1/categories/{c}", UriKind.Relative));

        var problem = await AssertProblemAsync(response, HttpStatusCode.NotFound, BusErrorCodes.CategoryNotFound);
        Assert.Equal(c, problem.GetProperty("value").GetString());
        Assert.DoesNotContain(await ListCategoriesAsync(client), k => k.Name == c);
        Assert.False(Directory.Exists(Path.Combine(silo.CategoriesDir, c)));
    }

    private static Task<HttpResponseMessage> PollAsync(HttpClient client, string category, string group, int maxMessages) =>
        client.PostAsync(new Uri($"/v1/categories/{category}/groups/{group}/poll?max_messages={maxMessages}", UriKind.Relative), null);
}
