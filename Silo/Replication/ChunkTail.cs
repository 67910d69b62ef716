using System.Buffers;
using OrleansBus.Silo.Storage;

namespace OrleansBus.Silo.Replication;

/// <summary>
/// Whole batches of a chunk past a position, with their index entries: what a copy appends next — read from a local chunk
/// to push or serve, or received from a peer's pull reply. Data then index bytes in one pooled buffer.
/// </summary>
internal sealed class ChunkTail(byte[] buffer, int dataLength, int indexLength) : IDisposable
{
    private byte[]? _buffer = buffer;

    /// <summary>Data bytes followed by index bytes, in one pooled buffer (sent as one body).</summary>
    public ReadOnlyMemory<byte> Body => (_buffer ?? []).AsMemory(0, dataLength + indexLength);
    public ReadOnlyMemory<byte> Data => Body[..dataLength];
    public ReadOnlyMemory<byte> Index => Body[dataLength..];
    public int DataLength => dataLength;
    public int IndexLength => indexLength;

    public void Dispose()
    {
        var rented = Interlocked.Exchange(ref _buffer, null);
        if (rented is { Length: > 0 })
            ArrayPool<byte>.Shared.Return(rented);
    }

    /// <summary>
    /// Reads the batches of <paramref name="chunk"/> (own or a copy) that follow (<paramref name="offset"/>,
    /// <paramref name="indexOffset"/>), up to about <paramref name="maxBytes"/> of data (at least one batch), only
    /// batches already published to readers. Null when the position is not a batch boundary of this chunk.
    /// </summary>
    public static ChunkTail? Read(Chunk chunk, long offset, long indexOffset, int maxBytes)
    {
        if (indexOffset % IndexEntry.Size != 0 || offset < 0 || indexOffset < 0)
            return null;
        var published = chunk.Size;
        using var index = File.OpenHandle(chunk.IndexPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        Span<byte> entryBytes = stackalloc byte[IndexEntry.Size];
        if (indexOffset > 0)
        {
            // The entry before the position must end exactly at the offset: both copies agree on the batch boundary.
            if (RandomAccess.Read(index, entryBytes, indexOffset - IndexEntry.Size) != IndexEntry.Size
                || !IndexEntry.TryRead(entryBytes, out var previous) || previous.EndOffset != offset)
                return null;
        }
        else if (offset != 0)
        {
            return null;
        }
        if (offset > published)
            return null;
        // Entries past the position whose batch is published, until maxBytes of data.
        var end = offset;
        var entries = 0;
        var position = indexOffset;
        while (RandomAccess.Read(index, entryBytes, position) == IndexEntry.Size && IndexEntry.TryRead(entryBytes, out var entry))
        {
            if (entry.EndOffset > published || (entries > 0 && entry.EndOffset - offset > maxBytes))
                break;
            end = entry.EndOffset;
            entries++;
            position += IndexEntry.Size;
        }
        var dataLength = checked((int)(end - offset));
        var indexLength = entries * IndexEntry.Size;
        var buffer = ArrayPool<byte>.Shared.Rent(Math.Max(1, dataLength + indexLength));
        var tail = new ChunkTail(buffer, dataLength, indexLength);
        try
        {
            ReadExactly(chunk.ReadHandle(), buffer.AsSpan(0, dataLength), offset, chunk.Name);
            ReadExactly(index, buffer.AsSpan(dataLength, indexLength), indexOffset, chunk.Name);
            return tail;
        }
        catch
        {
            tail.Dispose();
            throw;
        }
    }

    private static void ReadExactly(Microsoft.Win32.SafeHandles.SafeFileHandle handle, Span<byte> destination, long fileOffset, string chunk)
    {
        var done = 0;
        while (done < destination.Length)
        {
            var n = RandomAccess.Read(handle, destination[done..], fileOffset + done);
            if (n == 0)
                throw new IOException($"Chunk {chunk} ended at {fileOffset + done}, before its published size.");
            done += n;
        }
    }
}
