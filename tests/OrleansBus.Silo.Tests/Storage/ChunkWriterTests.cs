using OrleansBus.Silo.Metadata;
using OrleansBus.Silo.Storage;

namespace OrleansBus.Silo.Tests.Storage;

public sealed class ChunkWriterTests
{
    [Fact]
    public async Task Appends_land_contiguously_and_the_index_describes_every_batch()
    {
        await using var h = await StorageHarness.StartAsync();
        var first = await h.AppendAsync("orders", Batches.Make("a", 3));
        var second = await h.AppendAsync("orders", Batches.Make("b", 5));

        Assert.Equal((0L, 60L, 3), (first.Offset, first.Length, first.Messages));
        Assert.Equal((60L, 100L, 5), (second.Offset, second.Length, second.Messages));
        Assert.Equal(first.Chunk, second.Chunk);

        var chunk = h.Store.Find("orders")!.FindChunk(first.Chunk)!;
        Assert.Equal((160L, 8L), (chunk.Size, chunk.Messages));
        var index = File.ReadAllBytes(chunk.IndexPath);
        Assert.Equal(2 * IndexEntry.Size, index.Length);
        Assert.True(IndexEntry.TryRead(index.AsSpan(0, IndexEntry.Size), out var e0));
        Assert.True(IndexEntry.TryRead(index.AsSpan(IndexEntry.Size), out var e1));
        Assert.Equal((60L, 3), (e0.EndOffset, e0.Messages));
        Assert.Equal((160L, 5), (e1.EndOffset, e1.Messages));
        var data = File.ReadAllBytes(chunk.DataPath);
        Assert.Equal(Crc32C.Compute(data.AsSpan(60, 100)), e1.BatchCrc);
    }

    [Fact]
    public async Task Chunks_rotate_by_size_and_a_batch_never_spans_two_chunks()
    {
        await using var h = await StorageHarness.StartAsync(configure: o => o.MaxChunkBytes = 1024);
        var results = new List<AppendResult>();
        for (var i = 0; i < 10; i++)
            results.Add(await h.AppendAsync("sized", Batches.Make($"m{i}", 15))); // 300 bytes each

        var chunks = h.Store.Find("sized")!.Chunks;
        Assert.Equal(4, chunks.Count); // 3 batches (900 bytes) fit under 1024; the 4th would not
        Assert.All(chunks, c => Assert.True(c.Size <= 1024, $"{c.Name} is {c.Size} bytes"));
        Assert.Equal(3000, chunks.Sum(c => c.Size));
        Assert.All(results, r => Assert.True(r.Offset + r.Length <= 1024));
        await h.WaitForSealedAsync("sized", expectedSealed: 3);
        Assert.Equal(ChunkStates.Active, chunks[^1].State);
    }

    [Fact]
    public async Task A_batch_larger_than_max_chunk_bytes_gets_a_chunk_of_its_own()
    {
        await using var h = await StorageHarness.StartAsync(configure: o => o.MaxChunkBytes = 1024);
        await h.AppendAsync("big", Batches.Make("small", 2));
        var big = await h.AppendAsync("big", Batches.Make("huge", 100)); // 2000 bytes
        var after = await h.AppendAsync("big", Batches.Make("next", 2));

        Assert.Equal(0, big.Offset);
        Assert.NotEqual(big.Chunk, after.Chunk);
        Assert.Equal(3, h.Store.Find("big")!.Chunks.Count);
    }

    [Fact]
    public async Task A_chunk_is_sealed_after_max_chunk_age_and_the_next_write_opens_a_new_one()
    {
        await using var h = await StorageHarness.StartAsync(configure: o => o.MaxChunkAge = TimeSpan.FromMinutes(10));
        var first = await h.AppendAsync("aged", Batches.Make("x", 2));
        await h.Store.SealAgedChunksAsync();
        Assert.Single(h.Store.Find("aged")!.Chunks); // too young: nothing sealed

        h.Time.Advance(TimeSpan.FromMinutes(11));
        await h.Store.SealAgedChunksAsync();
        await h.WaitForSealedAsync("aged", expectedSealed: 1);
        var second = await h.AppendAsync("aged", Batches.Make("y", 2));

        Assert.NotEqual(first.Chunk, second.Chunk);
        Assert.Equal(0, second.Offset);
    }

    [Fact]
    public async Task A_clean_stop_persists_the_sealed_state_and_size_in_the_catalog()
    {
        await using var h = await StorageHarness.StartAsync();
        var appended = await h.AppendAsync("persist", Batches.Make("p", 7));
        await h.RestartAsync();

        var chunk = Assert.Single(h.Store.Find("persist")!.Chunks);
        Assert.Equal(ChunkStates.Sealed, chunk.State);
        Assert.Equal((140L, 7L), (chunk.Size, chunk.Messages));
        var next = await h.AppendAsync("persist", Batches.Make("q", 1));
        Assert.NotEqual(appended.Chunk, next.Chunk); // never appends to a sealed chunk
    }

    [Fact]
    public async Task Chunk_sequence_numbers_are_never_reused_even_after_every_file_is_gone()
    {
        await using var h = await StorageHarness.StartAsync(configure: o => o.MaxChunkBytes = 1024);
        for (var i = 0; i < 3; i++)
            await h.AppendAsync("reuse", Batches.Make($"r{i}", 40)); // 800 bytes each: one chunk per batch
        var before = h.Store.Find("reuse")!.Chunks.Select(c => c.Seq).Max();
        await h.Store.DisposeAsync();

        await using (var metadata = new SqliteMetadataStore(Path.Combine(h.DataDir, "metadata.db")))
            Assert.True(await metadata.DeleteCategoryAsync("reuse", CancellationToken.None));
        Directory.Delete(Path.Combine(h.DataDir, "categories", "reuse"), recursive: true);
        await h.RestartAsync(o => o.MaxChunkBytes = 1024);

        Assert.Null(h.Store.Find("reuse"));
        var again = await h.AppendAsync("reuse", Batches.Make("new", 2));
        Assert.True(ChunkName.TryParse(again.Chunk, out _, out var seq));
        Assert.True(seq > before, $"new chunk seq {seq} reuses one at or below {before}");
    }

    [Fact]
    public async Task Fsync_batches_queued_together_share_one_fdatasync()
    {
        await using var h = await StorageHarness.StartAsync();
        var log = await h.Store.GetOrCreateAsync("group", CancellationToken.None);
        var batch = Batches.Make("g", 1);
        var appends = Enumerable.Range(0, 200)
            .Select(_ => log.Writer.AppendAsync(new AppendRequest(batch, 1, Crc32C.Compute(batch), fsync: true)))
            .ToArray();
        var results = await Task.WhenAll(appends);

        Assert.All(results, r => Assert.True(r.Synced));
        Assert.Equal(200, log.Chunks.Sum(c => c.Messages));
        Assert.True(log.Writer.Syncs < 200, $"{log.Writer.Syncs} fdatasyncs for 200 concurrent fsync batches: no group commit");
    }

    [Fact]
    public async Task Fsync_and_page_cache_batches_mixed_across_rotations_each_get_what_they_asked_and_all_survive_a_restart()
    {
        await using var h = await StorageHarness.StartAsync(configure: o => o.MaxChunkBytes = 1024);
        var batch = Batches.Make("mix", 10); // 200 bytes: five batches per 1 KiB chunk
        var log = await h.Store.GetOrCreateAsync("mixed", CancellationToken.None);
        // Syncs run beside the writer: a chunk rotates while its fsync batches may still be syncing.
        var results = await Task.WhenAll(Enumerable.Range(0, 120).Select(i =>
            log.Writer.AppendAsync(new AppendRequest(batch, 10, Crc32C.Compute(batch), fsync: i % 3 == 0))));

        for (var i = 0; i < results.Length; i++)
            Assert.Equal(i % 3 == 0, results[i].Synced);
        Assert.Equal(120, results.Select(r => (r.Chunk, r.Offset)).Distinct().Count()); // no two batches share a place
        await h.RestartAsync(o => o.MaxChunkBytes = 1024);
        var chunks = h.Store.Find("mixed")!.Chunks;
        Assert.Equal(1200, chunks.Sum(c => c.Messages));
        foreach (var r in results)
        {
            var data = File.ReadAllBytes(chunks.Single(c => c.Name == r.Chunk).DataPath);
            Assert.Equal(batch, data.AsSpan((int)r.Offset, (int)r.Length).ToArray());
        }
    }

    [Fact]
    public async Task A_second_store_cannot_open_a_data_directory_in_use()
    {
        await using var h = await StorageHarness.StartAsync();
        await using var second = StorageHarness.Create(h.DataDir, null, TimeProvider.System);
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => second.StartAsync(CancellationToken.None));
        Assert.Contains("in use by another silo", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Reads_are_cut_to_the_last_newline_and_a_message_larger_than_max_bytes_comes_whole()
    {
        await using var h = await StorageHarness.StartAsync();
        var appended = await h.AppendAsync("reads", "short\nthis one is rather long\nend\n"u8.ToArray());
        var chunk = h.Store.Find("reads")!.FindChunk(appended.Chunk)!;

        using (var slice = ChunkReader.Read(chunk, 0, 10))
        {
            Assert.Equal("short\n", System.Text.Encoding.ASCII.GetString(slice.Memory.Span));
            Assert.Equal(6, slice.NextOffset);
        }
        using (var slice = ChunkReader.Read(chunk, 6, 5))
            Assert.Equal("this one is rather long\n", System.Text.Encoding.ASCII.GetString(slice.Memory.Span));
        using (var slice = ChunkReader.Read(chunk, 30, 1000))
            Assert.Equal("end\n", System.Text.Encoding.ASCII.GetString(slice.Memory.Span));
        using (var slice = ChunkReader.Read(chunk, 34, 1000))
            Assert.Equal((0, 34L), (slice.Memory.Length, slice.NextOffset));
    }
}
