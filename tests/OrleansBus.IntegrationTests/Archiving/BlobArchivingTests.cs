using OrleansBus.Testing;

namespace OrleansBus.IntegrationTests.Archiving;

/// <summary>The cluster kind: chunks go to Azurite, and an outage delays archiving without losing or deleting anything.</summary>
public sealed class BlobArchivingTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(90);

    private static Dictionary<string, string> BlobSettings(AzuriteServer azurite, string container) => new()
    {
        ["LocalRetention"] = "00:00:00",
        ["Bus:Archive:Kind"] = "blob",
        ["Bus:Archive:Blob:ServiceUri"] = azurite.BlobEndpoint,
        ["Bus:Archive:Blob:AccountName"] = AzuriteServer.AccountName,
        ["Bus:Archive:Blob:AccountKey"] = AzuriteServer.AccountKey,
        ["Bus:Archive:Blob:Container"] = container,
        ["Bus:Archive:Blob:ConnectTimeout"] = "00:00:02",
        ["Bus:Archive:Blob:RequestTimeout"] = "00:00:10",
    };

    [Fact]
    public async Task Sealed_chunks_are_archived_to_blob_storage_and_read_back_exactly()
    {
        using var dir = new TempDirectory("archive-blob");
        await using var azurite = await AzuriteServer.StartNewAsync();
        await using var silo = new ArchiveSilo(dir.Combine("data"), "blob1", BlobSettings(azurite, "archiving-a"));
        await silo.Process.StartAsync();
        await silo.ProduceAsync(batches: 20);

        var chunks = await silo.WaitForChunksAsync(c => ArchiveSilo.AllButNewest(c, "archived", atLeast: 3)
            && c.Take(c.Length - 1).All(x => !File.Exists(silo.LocalFile(x.Name))), "Archiving every sealed chunk to Azurite and dropping its local copy", Wait);
        var archived = chunks.Take(chunks.Length - 1).ToArray();
        foreach (var chunk in archived)
        {
            // With the local copy gone the read comes from the cache, a length-checked download of the blob.
            Assert.Equal(silo.Expected(chunk.Name), await silo.Api.ReadChunkAsync(ArchiveSilo.Category, chunk.Name, chunk.Size));
            Assert.Equal(silo.Expected(chunk.Name), await File.ReadAllTextAsync(silo.CacheFile(chunk.Name)));
        }
        var polled = await silo.PollAllAsync("g1");
        foreach (var chunk in archived)
            Assert.Equal(silo.Expected(chunk.Name), polled[chunk.Name]);
    }

    [Fact]
    public async Task While_blob_storage_is_down_nothing_is_archived_or_deleted_and_everything_is_archived_once_it_is_back()
    {
        using var dir = new TempDirectory("archive-outage");
        await using var azurite = await AzuriteServer.StartNewAsync();
        await using var silo = new ArchiveSilo(dir.Combine("data"), "blob2", BlobSettings(azurite, "archiving-b"));
        await silo.Process.StartAsync();
        await azurite.StopAsync();
        await silo.ProduceAsync(batches: 20);

        var chunks = await silo.WaitForChunksAsync(c => ArchiveSilo.AllButNewest(c, "sealed", atLeast: 3)
            && File.ReadAllText(silo.Process.LogPath).Contains("Archive unavailable", StringComparison.Ordinal),
            "Sealing the chunks and retrying their upload while Azurite is down", Wait);
        foreach (var chunk in chunks.Take(chunks.Length - 1))
        {
            Assert.Equal(silo.Expected(chunk.Name), await File.ReadAllTextAsync(silo.LocalFile(chunk.Name)));
            Assert.True(File.Exists(silo.LocalFile(chunk.Name) + ".idx"), $"The index of {chunk.Name} was deleted before the chunk was archived.");
        }

        await azurite.StartAsync();
        var sealedNames = chunks.Take(chunks.Length - 1).Select(c => c.Name).ToHashSet(StringComparer.Ordinal);
        var after = await silo.WaitForChunksAsync(c => c.Where(x => sealedNames.Contains(x.Name)).All(x => x.State == "archived"),
            "Archiving every chunk sealed during the outage after Azurite came back", Wait);
        foreach (var chunk in after.Where(x => sealedNames.Contains(x.Name)))
            Assert.Equal(silo.Expected(chunk.Name), await silo.Api.ReadChunkAsync(ArchiveSilo.Category, chunk.Name, chunk.Size));
    }

    [Fact]
    public async Task A_read_of_a_dropped_chunk_answers_503_archive_unavailable_while_blob_storage_is_down()
    {
        using var dir = new TempDirectory("archive-read-outage");
        await using var azurite = await AzuriteServer.StartNewAsync();
        await using var silo = new ArchiveSilo(dir.Combine("data"), "blob3", BlobSettings(azurite, "archiving-c"));
        await silo.Process.StartAsync();
        await silo.ProduceAsync(batches: 8);
        var chunks = await silo.WaitForChunksAsync(c => ArchiveSilo.AllButNewest(c, "archived", atLeast: 1)
            && !File.Exists(silo.LocalFile(c[0].Name)), "Archiving the first chunk and dropping its local copy", Wait);
        var first = chunks[0];
        await azurite.StopAsync();

        using var http = new HttpClient();
        using var response = await http.GetAsync($"{silo.Process.BaseUrl}/v1/categories/{ArchiveSilo.Category}/chunks/{first.Name}?offset=0&max_bytes=1048576");
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == System.Net.HttpStatusCode.ServiceUnavailable, $"Expected 503, got {(int)response.StatusCode}: {body}");
        Assert.Contains("\"archive_unavailable\"", body, StringComparison.Ordinal);

        await azurite.StartAsync();
        Assert.Equal(silo.Expected(first.Name), await silo.Api.ReadChunkAsync(ArchiveSilo.Category, first.Name, first.Size));
    }
}
