using System.Buffers;

namespace OrleansBus.Silo.Storage;

/// <summary>Work for a <see cref="ChunkWriter"/>'s single loop.</summary>
internal abstract class WriterWork;

/// <summary>
/// One validated produce batch: whole messages, ending in a newline, with its checksum already computed
/// on the request thread (so the writer loop only writes). The buffer belongs to the caller, who must not
/// reuse it before <see cref="Completion"/> finishes.
/// </summary>
internal sealed class AppendRequest(ReadOnlySequence<byte> batch, int messages, uint crc, bool fsync) : WriterWork
{
    public AppendRequest(ReadOnlyMemory<byte> batch, int messages, uint crc, bool fsync)
        : this(new ReadOnlySequence<byte>(batch), messages, crc, fsync)
    {
    }

    public ReadOnlySequence<byte> Batch { get; } = batch;
    public int Messages { get; } = messages;
    public uint Crc { get; } = crc;
    public bool Fsync { get; } = fsync;
    /// <summary>
    /// Completed by the writer (page cache) or the syncer (fsync). Continuations run on that thread: the one awaiting
    /// caller, <see cref="ChunkWriter.AppendAsync"/>, does not come back to a grain's scheduler and only hands the result
    /// on, which is cheaper than waking another thread for every acknowledgement.
    /// </summary>
    public TaskCompletionSource<AppendResult> Completion { get; } = new();

    // Set by the writer when it places the batch.
    public Chunk? Chunk { get; set; }
    public long Offset { get; set; }

    /// <summary>Where the batch landed; what <see cref="Completion"/> gives once the promised durability is met.</summary>
    public AppendResult Result => new(Chunk!.Name, Offset, Batch.Length, Messages, Fsync);
}

/// <summary>Asks the writer to seal its active chunk: always (shutdown) or only when it is older than a cutoff.</summary>
internal sealed class SealRequest(DateTimeOffset? createdBefore) : WriterWork
{
    public DateTimeOffset? CreatedBefore { get; } = createdBefore;
    public TaskCompletionSource Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
}

/// <summary>Where an appended batch landed and whether an fdatasync covered it.</summary>
public readonly record struct AppendResult(string Chunk, long Offset, long Length, int Messages, bool Synced);

/// <summary>The disk had no room: nothing of the batch is visible or kept.</summary>
public sealed class DiskFullException(string message, Exception inner) : IOException(message, inner);
