namespace OrleansBus.Silo.Storage;

/// <summary>
/// Told by a category's <see cref="ChunkWriter"/> about its active chunk: opened (awaited before the first batch is
/// written, so replica placement is recorded before anything is acknowledged), batches published, rotated out. The
/// calls run on the writer loop: <see cref="Published"/> and <see cref="RotatedOut"/> must not block.
/// </summary>
public interface IChunkListener
{
    Task OpenedAsync(Chunk chunk);

    void Published(Chunk chunk);

    void RotatedOut(Chunk chunk);
}
