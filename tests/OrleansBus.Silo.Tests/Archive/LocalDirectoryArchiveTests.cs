using OrleansBus.Silo.Archive;
using OrleansBus.Testing;

namespace OrleansBus.Silo.Tests.Archive;

/// <summary>The conformance suite on a local folder, plus what only a folder can show: its layout and leftovers.</summary>
public sealed class LocalDirectoryArchiveTests : ChunkArchiveConformance
{
    private readonly TempDirectory _root = new("archive");

    protected override Task<IChunkArchive> CreateArchiveAsync() =>
        Task.FromResult<IChunkArchive>(new LocalDirectoryArchive(_root.Combine("archive")));

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        _root.Dispose();
    }

    [Fact]
    public async Task Chunks_are_plain_files_under_category_and_no_partial_upload_is_left()
    {
        var content = Content(12_345, seed: 20);

        await UploadAsync(Chunk(0), content);
        await Assert.ThrowsAsync<ArchiveIntegrityException>(() => Archive.UploadAsync(Category, Chunk(1), WriteSource(content), content.Length + 1, ChunkHash.Compute(content), CancellationToken.None));

        Assert.Equal(content, await File.ReadAllBytesAsync(_root.Combine("archive", Category, Chunk(0))));
        Assert.Empty(Directory.GetFiles(_root.Combine("archive", ".partial")));
    }

    [Fact]
    public async Task Partial_uploads_older_than_an_hour_are_removed_when_the_archive_opens()
    {
        var partials = _root.Combine("archive", ".partial");
        Directory.CreateDirectory(partials);
        var old = Path.Combine(partials, "old");
        var fresh = Path.Combine(partials, "fresh");
        await File.WriteAllTextAsync(old, "x");
        await File.WriteAllTextAsync(fresh, "x");
        File.SetLastWriteTimeUtc(old, DateTime.UtcNow.AddHours(-2));

        _ = new LocalDirectoryArchive(_root.Combine("archive"));

        Assert.False(File.Exists(old));
        Assert.True(File.Exists(fresh));
    }

    [Fact]
    public async Task Files_that_are_not_chunks_are_not_listed()
    {
        await UploadAsync(Chunk(0), Content(10, seed: 21));
        await File.WriteAllTextAsync(_root.Combine("archive", Category, "notes.txt"), "x");

        Assert.Equal([new ArchivedChunk(Chunk(0), 10)], await Archive.ListAsync(Category, CancellationToken.None));
    }

    [Fact]
    public async Task A_file_on_the_same_file_system_is_linked_not_copied_and_a_mismatched_one_leaves_nothing()
    {
        var content = Content(50_000, seed: 22);
        var source = WriteSource(content);

        Assert.Equal(ArchiveUploadOutcome.Created, await Archive.UploadAsync(Category, Chunk(0), source, content.Length, ChunkHash.Compute(content), CancellationToken.None));
        File.Delete(source); // the archive's name still holds the bytes: a second name for the same file
        Assert.Equal(content, await File.ReadAllBytesAsync(_root.Combine("archive", Category, Chunk(0))));

        var other = WriteSource(Content(50_000, seed: 23));
        await Assert.ThrowsAsync<ArchiveIntegrityException>(() =>
            Archive.UploadAsync(Category, Chunk(1), other, content.Length, ChunkHash.Compute(content), CancellationToken.None));
        Assert.False(await Archive.ExistsAsync(Category, Chunk(1), CancellationToken.None));
        Assert.True(File.Exists(other)); // the caller's file is untouched
    }
}
