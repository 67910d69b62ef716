using OrleansBus.Silo.Archive;
using OrleansBus.Silo.Storage;
using OrleansBus.Testing;

namespace OrleansBus.Silo.Tests.Archive;

/// <summary>
/// The <see cref="IChunkArchive"/> contract, run against every backend. xunit makes a new instance per
/// test; each test uses its own category, so tests never see each other's chunks even when a backend
/// shares one store (one container) across a test class.
/// </summary>
public abstract class ChunkArchiveConformance : IAsyncLifetime
{
    private readonly TempDirectory _files = new("archive-src");

    protected IChunkArchive Archive { get; private set; } = null!;

    /// <summary>This test's category: unique, so a shared container stays partitioned per test.</summary>
    protected string Category { get; } = "c" + Guid.NewGuid().ToString("N")[..12];

    protected abstract Task<IChunkArchive> CreateArchiveAsync();

    public virtual async Task InitializeAsync() => Archive = await CreateArchiveAsync();

    public virtual Task DisposeAsync()
    {
        (Archive as IDisposable)?.Dispose();
        _files.Dispose();
        return Task.CompletedTask;
    }

    protected static string Chunk(int seq, string owner = "s1") => ChunkName.Format(owner, seq);

    /// <summary>Deterministic bytes that look like messages (so ranges differ everywhere).</summary>
    protected static byte[] Content(int length, int seed)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        for (var i = 99; i < length; i += 100)
            bytes[i] = (byte)'\n';
        return bytes;
    }

    protected string WriteSource(byte[] content)
    {
        var path = _files.Combine(Guid.NewGuid().ToString("N"));
        File.WriteAllBytes(path, content);
        return path;
    }

    protected Task<ArchiveUploadOutcome> UploadAsync(string chunk, byte[] content, string? category = null) =>
        Archive.UploadAsync(category ?? Category, chunk, WriteSource(content), content.Length, ChunkHash.Compute(content), CancellationToken.None);

    protected async Task<byte[]> ReadAllAsync(string chunk, string? category = null)
    {
        var path = _files.Combine("download-" + Guid.NewGuid().ToString("N"));
        var length = await Archive.DownloadToFileAsync(category ?? Category, chunk, path, CancellationToken.None);
        var bytes = await File.ReadAllBytesAsync(path);
        Assert.Equal(length, bytes.Length);
        return bytes;
    }

    [Fact]
    public async Task Upload_then_read_back_whole_and_by_ranges_byte_exact()
    {
        // Over 4 MiB and not a multiple of any buffer size: crosses every internal boundary.
        var content = Content((5 << 20) + 12345, seed: 1);
        Assert.Equal(ArchiveUploadOutcome.Created, await UploadAsync(Chunk(0), content));

        Assert.Equal(content, await ReadAllAsync(Chunk(0)));
        (long Offset, int Count, int Expected)[] ranges =
        [
            (0, 1, 1), (0, 4096, 4096), (1000, 65_536, 65_536), ((1 << 20) - 7, 20, 20),
            (content.Length - 10, 100, 10), (content.Length - 1, 1, 1), (content.Length, 10, 0), (content.Length + 5, 10, 0),
            (3, content.Length, content.Length - 3),
        ];
        foreach (var (offset, count, expected) in ranges)
        {
            var buffer = new byte[count];
            var read = await Archive.ReadAsync(Category, Chunk(0), offset, buffer, CancellationToken.None);
            Assert.True(expected == read, $"range {offset}+{count}: read {read}, expected {expected}");
            Assert.True(content.AsSpan((int)Math.Min(offset, content.Length), read).SequenceEqual(buffer.AsSpan(0, read)), $"range {offset}+{count} differs");
        }
    }

    [Fact]
    public async Task An_empty_chunk_round_trips()
    {
        Assert.Equal(ArchiveUploadOutcome.Created, await UploadAsync(Chunk(0), []));

        Assert.Equal(0, await Archive.GetLengthAsync(Category, Chunk(0), CancellationToken.None));
        Assert.Equal(0, await Archive.ReadAsync(Category, Chunk(0), 0, new byte[10], CancellationToken.None));
        Assert.Empty(await ReadAllAsync(Chunk(0)));
        Assert.Equal(ArchiveUploadOutcome.AlreadyArchived, await UploadAsync(Chunk(0), []));
    }

    [Fact]
    public async Task Exists_and_length_report_an_archived_chunk_and_its_absence()
    {
        Assert.False(await Archive.ExistsAsync(Category, Chunk(0), CancellationToken.None));
        Assert.Null(await Archive.GetLengthAsync(Category, Chunk(0), CancellationToken.None));

        await UploadAsync(Chunk(0), Content(3000, seed: 2));

        Assert.True(await Archive.ExistsAsync(Category, Chunk(0), CancellationToken.None));
        Assert.Equal(3000, await Archive.GetLengthAsync(Category, Chunk(0), CancellationToken.None));
        Assert.False(await Archive.ExistsAsync(Category, Chunk(1), CancellationToken.None));
    }

    [Fact]
    public async Task A_second_upload_of_the_same_bytes_succeeds_as_already_archived()
    {
        var content = Content(70_000, seed: 3);
        Assert.Equal(ArchiveUploadOutcome.Created, await UploadAsync(Chunk(0), content));

        Assert.Equal(ArchiveUploadOutcome.AlreadyArchived, await UploadAsync(Chunk(0), content));
        using var stream = new MemoryStream(content);
        Assert.Equal(ArchiveUploadOutcome.AlreadyArchived,
            await Archive.UploadAsync(Category, Chunk(0), stream, content.Length, ChunkHash.Compute(content), CancellationToken.None));
        Assert.Equal(content, await ReadAllAsync(Chunk(0)));
    }

    [Fact]
    public async Task An_upload_of_different_bytes_under_an_existing_name_is_a_conflict_and_keeps_the_original()
    {
        var original = Content(50_000, seed: 4);
        await UploadAsync(Chunk(0), original);

        var sameLength = Content(50_000, seed: 5);
        await Assert.ThrowsAsync<ArchiveConflictException>(() => UploadAsync(Chunk(0), sameLength));
        await Assert.ThrowsAsync<ArchiveConflictException>(() => UploadAsync(Chunk(0), original[..49_999]));
        await Assert.ThrowsAsync<ArchiveConflictException>(() => UploadAsync(Chunk(0), [.. original, (byte)'x']));

        Assert.Equal(original, await ReadAllAsync(Chunk(0)));
    }

    [Fact]
    public async Task Upload_from_a_stream_starts_at_its_position()
    {
        var content = Content(20_000, seed: 6);
        using var stream = new MemoryStream([.. "ignored-prefix"u8, .. content]);
        stream.Position = "ignored-prefix".Length;

        Assert.Equal(ArchiveUploadOutcome.Created,
            await Archive.UploadAsync(Category, Chunk(0), stream, content.Length, ChunkHash.Compute(content), CancellationToken.None));

        Assert.Equal(content, await ReadAllAsync(Chunk(0)));
    }

    [Fact]
    public async Task List_returns_a_category_chunks_in_name_order_with_lengths()
    {
        var other = Category + ".other";
        await UploadAsync(Chunk(2), Content(30, seed: 7));
        await UploadAsync(Chunk(0), Content(10, seed: 8));
        await UploadAsync(Chunk(1, owner: "s2"), Content(20, seed: 9));
        await UploadAsync(Chunk(1), Content(40, seed: 10), other);

        Assert.Equal(
            [new ArchivedChunk(Chunk(0), 10), new ArchivedChunk(Chunk(2), 30), new ArchivedChunk(Chunk(1, owner: "s2"), 20)],
            await Archive.ListAsync(Category, CancellationToken.None));
        Assert.Equal([new ArchivedChunk(Chunk(1), 40)], await Archive.ListAsync(other, CancellationToken.None));
        Assert.Empty(await Archive.ListAsync(Category + "-never", CancellationToken.None));
    }

    [Fact]
    public async Task Delete_removes_a_chunk_and_reports_whether_it_was_there()
    {
        await UploadAsync(Chunk(0), Content(1000, seed: 11));
        await UploadAsync(Chunk(1), Content(1000, seed: 12));

        Assert.True(await Archive.DeleteAsync(Category, Chunk(0), CancellationToken.None));

        Assert.False(await Archive.ExistsAsync(Category, Chunk(0), CancellationToken.None));
        Assert.False(await Archive.DeleteAsync(Category, Chunk(0), CancellationToken.None));
        Assert.Equal([new ArchivedChunk(Chunk(1), 1000)], await Archive.ListAsync(Category, CancellationToken.None));
        // Deleted means gone for good: the name can hold a chunk again (retention then re-archive of a replica).
        Assert.Equal(ArchiveUploadOutcome.Created, await UploadAsync(Chunk(0), Content(10, seed: 13)));
    }

    [Fact]
    public async Task Reading_a_missing_chunk_is_not_found_and_writes_no_file()
    {
        await UploadAsync(Chunk(0), Content(10, seed: 14));
        var target = _files.Combine("cache", "missing");

        await Assert.ThrowsAsync<ArchiveNotFoundException>(() => Archive.ReadAsync(Category, Chunk(1), 0, new byte[10], CancellationToken.None));
        await Assert.ThrowsAsync<ArchiveNotFoundException>(() => Archive.ReadAsync(Category + "-never", Chunk(1), 0, new byte[10], CancellationToken.None));
        await Assert.ThrowsAsync<ArchiveNotFoundException>(() => Archive.ReadAsync(Category, Chunk(1), 0, Memory<byte>.Empty, CancellationToken.None));
        await Assert.ThrowsAsync<ArchiveNotFoundException>(() => Archive.DownloadToFileAsync(Category, Chunk(1), target, CancellationToken.None));

        Assert.False(File.Exists(target));
        Assert.Empty(Directory.Exists(Path.GetDirectoryName(target)) ? Directory.GetFiles(Path.GetDirectoryName(target)!) : []);
    }

    [Fact]
    public async Task Download_replaces_an_existing_cache_file()
    {
        var content = Content(9000, seed: 15);
        await UploadAsync(Chunk(0), content);
        var target = _files.Combine("cache-file");
        await File.WriteAllTextAsync(target, "stale and longer than nothing");

        Assert.Equal(9000, await Archive.DownloadToFileAsync(Category, Chunk(0), target, CancellationToken.None));

        Assert.Equal(content, await File.ReadAllBytesAsync(target));
        Assert.Single(Directory.GetFiles(_files.Path, "cache-file*"));
    }

    [Fact]
    public async Task Concurrent_uploads_of_different_chunks_all_land()
    {
        var contents = Enumerable.Range(0, 8).Select(i => Content(100_000 + i, seed: 100 + i)).ToArray();

        var outcomes = await Task.WhenAll(contents.Select((c, i) => Task.Run(() => UploadAsync(Chunk(i), c))));

        Assert.All(outcomes, o => Assert.Equal(ArchiveUploadOutcome.Created, o));
        for (var i = 0; i < contents.Length; i++)
            Assert.Equal(contents[i], await ReadAllAsync(Chunk(i)));
        Assert.Equal(8, (await Archive.ListAsync(Category, CancellationToken.None)).Count);
    }

    [Fact]
    public async Task Concurrent_uploads_of_one_chunk_store_it_once_and_all_succeed()
    {
        var content = Content(200_000, seed: 16);

        var outcomes = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => Task.Run(() => UploadAsync(Chunk(0), content))));

        Assert.Single(outcomes, o => o == ArchiveUploadOutcome.Created);
        Assert.Equal(3, outcomes.Count(o => o == ArchiveUploadOutcome.AlreadyArchived));
        Assert.Equal(content, await ReadAllAsync(Chunk(0)));
    }

    [Fact]
    public async Task A_source_shorter_or_longer_than_expected_is_refused_and_leaves_nothing()
    {
        var content = Content(10_000, seed: 17);
        var hash = ChunkHash.Compute(content);

        var shorter = await Assert.ThrowsAsync<ArchiveIntegrityException>(() =>
            Archive.UploadAsync(Category, Chunk(0), WriteSource(content[..9_999]), content.Length, hash, CancellationToken.None));
        await Assert.ThrowsAsync<ArchiveIntegrityException>(() =>
            Archive.UploadAsync(Category, Chunk(0), WriteSource([.. content, 1]), content.Length, hash, CancellationToken.None));
        await Assert.ThrowsAsync<ArchiveIntegrityException>(() =>
            Archive.UploadAsync(Category, Chunk(0), _files.Combine("no-such-file"), content.Length, hash, CancellationToken.None));

        Assert.Contains("9999", shorter.Message, StringComparison.Ordinal);
        Assert.False(await Archive.ExistsAsync(Category, Chunk(0), CancellationToken.None));
        Assert.Empty(await Archive.ListAsync(Category, CancellationToken.None));
    }

    [Fact]
    public async Task Without_an_expected_hash_the_file_is_stored_as_it_is_but_its_length_still_must_match()
    {
        var content = Content(30_000, seed: 31);

        Assert.Equal(ArchiveUploadOutcome.Created, await Archive.UploadAsync(Category, Chunk(0), WriteSource(content), content.Length, null, CancellationToken.None));
        Assert.Equal(content, await ReadAllAsync(Chunk(0)));
        Assert.Equal(ArchiveUploadOutcome.AlreadyArchived, await Archive.UploadAsync(Category, Chunk(0), WriteSource(content), content.Length, null, CancellationToken.None));

        await Assert.ThrowsAsync<ArchiveIntegrityException>(() =>
            Archive.UploadAsync(Category, Chunk(1), WriteSource(content), content.Length + 1, null, CancellationToken.None));
        Assert.False(await Archive.ExistsAsync(Category, Chunk(1), CancellationToken.None));
        var other = Content(30_000, seed: 32);
        await Assert.ThrowsAsync<ArchiveConflictException>(() =>
            Archive.UploadAsync(Category, Chunk(0), WriteSource(other), other.Length, null, CancellationToken.None));
        Assert.Equal(content, await ReadAllAsync(Chunk(0)));
    }

    [Fact]
    public async Task A_source_whose_hash_differs_is_refused_and_leaves_nothing()
    {
        var content = Content(10_000, seed: 18);
        var corrupted = (byte[])content.Clone();
        corrupted[5000] ^= 0x20;

        var error = await Assert.ThrowsAsync<ArchiveIntegrityException>(() =>
            Archive.UploadAsync(Category, Chunk(0), WriteSource(corrupted), content.Length, ChunkHash.Compute(content), CancellationToken.None));

        Assert.Contains(ChunkHash.Compute(content).ToString(), error.Message, StringComparison.Ordinal);
        Assert.False(await Archive.ExistsAsync(Category, Chunk(0), CancellationToken.None));
        // The refusal stored nothing, so the right bytes can go up afterwards.
        Assert.Equal(ArchiveUploadOutcome.Created, await UploadAsync(Chunk(0), content));
    }

    [Fact]
    public async Task Names_outside_the_rules_are_refused_before_reaching_the_store()
    {
        var content = Content(10, seed: 19);
        foreach (var (category, chunk) in new[] { ("..", Chunk(0)), ("a/b", Chunk(0)), ("Upper", Chunk(0)), (Category, "../x-chunk000000001"), (Category, "notachunk") })
        {
            await Assert.ThrowsAsync<ArgumentException>(() => Archive.ExistsAsync(category, chunk, CancellationToken.None));
            await Assert.ThrowsAsync<ArgumentException>(() =>
                Archive.UploadAsync(category, chunk, WriteSource(content), content.Length, ChunkHash.Compute(content), CancellationToken.None));
        }
        await Assert.ThrowsAsync<ArgumentException>(() => Archive.ListAsync("..", CancellationToken.None));
    }
}
