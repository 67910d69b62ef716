using OrleansBus.Silo.Metadata;

namespace OrleansBus.Silo.Tests.Storage;

/// <summary>
/// Start-up recovery of chunks the catalog still calls active (the last run did not stop cleanly).
/// The unclean stop is reproduced by putting the catalog row back to active after a clean stop and
/// damaging the files as a crash would; the SIGKILL test in IntegrationTests does it with a real kill.
/// </summary>
public sealed class RecoveryOnStartTests
{
    private static async Task<(StorageHarness Harness, string Chunk, string Path)> ChunkLeftActiveAsync(int batches)
    {
        var h = await StorageHarness.StartAsync();
        string chunk = "";
        for (var i = 0; i < batches; i++)
            chunk = (await h.AppendAsync("crash", Batches.Make($"c{i}", 5))).Chunk;
        await h.Store.DisposeAsync();
        await using (var metadata = new SqliteMetadataStore(Path.Combine(h.DataDir, "metadata.db")))
            await metadata.UpdateChunkAsync("crash", chunk, ChunkStates.Active, 0, 0, null, CancellationToken.None);
        return (h, chunk, Path.Combine(h.DataDir, "categories", "crash", chunk));
    }

    [Fact]
    public async Task A_torn_tail_is_cut_and_the_chunk_sealed_at_its_whole_batch_size()
    {
        var (h, chunk, path) = await ChunkLeftActiveAsync(batches: 3);
        await using var _ = h;
        await File.AppendAllTextAsync(path, "torn-mess");

        await h.RestartAsync();

        var recovered = h.Store.Find("crash")!.FindChunk(chunk)!;
        Assert.Equal(ChunkStates.Sealed, recovered.State);
        Assert.Equal((300L, 15L), (recovered.Size, recovered.Messages));
        Assert.Equal(300, new FileInfo(path).Length);
    }

    [Fact]
    public async Task A_checksum_mismatch_before_the_tail_quarantines_the_chunk_without_truncating_it()
    {
        var (h, chunk, path) = await ChunkLeftActiveAsync(batches: 3);
        await using var _ = h;
        var bytes = await File.ReadAllBytesAsync(path);
        bytes[105] ^= 0x20; // inside the second of three batches
        await File.WriteAllBytesAsync(path, bytes);

        await h.RestartAsync();

        var recovered = h.Store.Find("crash")!.FindChunk(chunk)!;
        Assert.Equal(ChunkStates.Corrupt, recovered.State);
        Assert.Contains("offset 100", recovered.CorruptReason, StringComparison.Ordinal);
        Assert.Equal(300, new FileInfo(path).Length);
        var catalog = await new SqliteMetadataStore(Path.Combine(h.DataDir, "metadata.db")).ListChunksAsync("crash", CancellationToken.None);
        Assert.Equal(ChunkStates.Corrupt, Assert.Single(catalog).State);
    }
}
