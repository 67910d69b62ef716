using OrleansBus.Testing;

namespace OrleansBus.IntegrationTests.Archiving;

/// <summary>The embedded default: sealed chunks go to <c>&lt;DataDir&gt;/archive</c> and local copies expire.</summary>
public sealed class LocalArchivingTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Sealed_chunks_are_archived_dropped_locally_and_still_read_exactly_from_the_cache()
    {
        using var dir = new TempDirectory("archive-local");
        await using var silo = new ArchiveSilo(dir.Combine("data"), "arch1", new Dictionary<string, string> { ["LocalRetention"] = "00:00:00" });
        await silo.Process.StartAsync();
        await silo.ProduceAsync(batches: 20);

        var chunks = await silo.WaitForChunksAsync(c => ArchiveSilo.AllButNewest(c, "archived", atLeast: 3)
            && c.Take(c.Length - 1).All(x => !File.Exists(silo.LocalFile(x.Name))), "Archiving every sealed chunk and dropping its local copy", Wait);
        var archived = chunks.Take(chunks.Length - 1).ToArray();
        foreach (var chunk in archived)
        {
            var archiveCopy = await File.ReadAllTextAsync(Path.Combine(silo.DataDir, "archive", ArchiveSilo.Category, chunk.Name));
            Assert.Equal(silo.Expected(chunk.Name), archiveCopy);
            Assert.False(File.Exists(silo.LocalFile(chunk.Name) + ".idx"), $"The index of {chunk.Name} was kept after its data file was dropped.");
            Assert.Equal(silo.Expected(chunk.Name), await silo.Api.ReadChunkAsync(ArchiveSilo.Category, chunk.Name, chunk.Size));
            Assert.Equal(silo.Expected(chunk.Name), await File.ReadAllTextAsync(silo.CacheFile(chunk.Name)));
        }
        var polled = await silo.PollAllAsync("g1");
        foreach (var chunk in archived)
            Assert.Equal(silo.Expected(chunk.Name), polled[chunk.Name]);

        // The catalog, not only memory, says archived: after a restart the chunks are listed archived (not corrupt
        // for lack of a local file) and still read exactly.
        await silo.Process.RestartAsync();
        var listed = await silo.Api.ChunksAsync(ArchiveSilo.Category);
        foreach (var chunk in archived)
        {
            Assert.Equal("archived", listed.Single(c => c.Name == chunk.Name).State);
            Assert.Equal(silo.Expected(chunk.Name), await silo.Api.ReadChunkAsync(ArchiveSilo.Category, chunk.Name, chunk.Size));
        }
    }

    [Fact]
    public async Task A_chunk_sealed_at_shutdown_is_archived_after_the_next_start()
    {
        using var dir = new TempDirectory("archive-restart");
        await using var silo = new ArchiveSilo(dir.Combine("data"), "arch2", new Dictionary<string, string>());
        await silo.Process.StartAsync();
        await silo.ProduceAsync(batches: 2); // 610 bytes: stays active until the clean stop seals it
        var chunk = Assert.Single(await silo.Api.ChunksAsync(ArchiveSilo.Category));
        Assert.Equal("active", chunk.State);
        await silo.Process.StopAsync();
        var archivePath = Path.Combine(silo.DataDir, "archive", ArchiveSilo.Category, chunk.Name);
        Assert.False(File.Exists(archivePath), "The chunk sealed at shutdown was archived before the silo stopped; the test proves nothing.");

        await silo.Process.StartAsync();
        await silo.WaitForChunksAsync(c => c.Any(x => x.Name == chunk.Name && x.State == "archived"), $"Archiving {chunk.Name} after the restart", Wait);
        Assert.Equal(silo.Expected(chunk.Name), await File.ReadAllTextAsync(archivePath));
        // The default LocalRetention (1 hour) keeps the local copy.
        Assert.Equal(silo.Expected(chunk.Name), await File.ReadAllTextAsync(silo.LocalFile(chunk.Name)));
    }

    [Fact]
    public async Task The_periodic_archive_check_uploads_again_a_chunk_the_archive_lost_from_the_local_copy()
    {
        using var dir = new TempDirectory("archive-check");
        await using var silo = new ArchiveSilo(dir.Combine("data"), "arch3", new Dictionary<string, string> { ["ArchiveCheckInterval"] = "00:00:01" });
        await silo.Process.StartAsync();
        await silo.ProduceAsync(batches: 20);
        var chunks = await silo.WaitForChunksAsync(c => ArchiveSilo.AllButNewest(c, "archived", atLeast: 2), "Archiving the sealed chunks", Wait);
        var lost = chunks[0];
        var archivePath = Path.Combine(silo.DataDir, "archive", ArchiveSilo.Category, lost.Name);
        File.Delete(archivePath); // the archive loses it; the local copy (LocalRetention 1 hour) is still here

        // The file comes back first, the log line a moment later (it is written after the upload returns).
        var restoredLine = $"{lost.Name} ({lost.Size} bytes) was missing from the archive";
        var deadline = DateTime.UtcNow + Wait;
        while (!(File.Exists(archivePath) && silo.Process.LogTail().Contains(restoredLine, StringComparison.Ordinal)) && DateTime.UtcNow < deadline)
            await Task.Delay(100);
        Assert.True(File.Exists(archivePath), $"The periodic check did not restore {lost.Name} within {Wait}.\n{silo.Process.LogTail()}");
        Assert.Equal(silo.Expected(lost.Name), await File.ReadAllTextAsync(archivePath));
        Assert.Contains(restoredLine, silo.Process.LogTail(), StringComparison.Ordinal);
    }
}