namespace OrleansBus.Silo.Storage;

/// <summary>
/// Lookups in a chunk's batch index by binary search with pread (entries are fixed-size and ordered by
/// end offset and append time), so lag and seek-by-time never scan a chunk's data.
/// </summary>
public static class ChunkIndexReader
{
    /// <summary>The index entry of the batch holding <paramref name="offset"/>, or null when there is none.</summary>
    public static IndexEntry? BatchAt(Chunk chunk, long offset) =>
        Search(chunk, e => e.EndOffset > offset);

    /// <summary>The first batch appended at or after <paramref name="timeMs"/>: its start offset and the messages before it.</summary>
    public static (long Offset, long MessagesBefore) FirstAtOrAfter(Chunk chunk, long timeMs)
    {
        if (!File.Exists(chunk.IndexPath))
            return (chunk.Size, chunk.Messages);
        using var handle = File.OpenHandle(chunk.IndexPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        var count = Count(handle, chunk);
        var index = LowerBound(handle, count, e => e.AppendTimeMs >= timeMs);
        if (index == 0)
            return (0, 0);
        long messages = 0;
        IndexEntry previous = default;
        for (var i = 0; i < index; i++)
        {
            previous = Read(handle, i);
            messages += previous.Messages;
        }
        return (previous.EndOffset, messages);
    }

    private static IndexEntry? Search(Chunk chunk, Func<IndexEntry, bool> predicate)
    {
        if (!File.Exists(chunk.IndexPath))
            return null;
        using var handle = File.OpenHandle(chunk.IndexPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        var count = Count(handle, chunk);
        var index = LowerBound(handle, count, predicate);
        return index < count ? Read(handle, index) : null;
    }

    /// <summary>Entries covering the published size only (the writer may be appending the next).</summary>
    private static long Count(Microsoft.Win32.SafeHandles.SafeFileHandle handle, Chunk chunk)
    {
        var count = RandomAccess.GetLength(handle) / IndexEntry.Size;
        var size = chunk.Size;
        while (count > 0 && Read(handle, count - 1).EndOffset > size)
            count--;
        return count;
    }

    private static long LowerBound(Microsoft.Win32.SafeHandles.SafeFileHandle handle, long count, Func<IndexEntry, bool> predicate)
    {
        long low = 0, high = count;
        while (low < high)
        {
            var mid = low + (high - low) / 2;
            if (predicate(Read(handle, mid)))
                high = mid;
            else
                low = mid + 1;
        }
        return low;
    }

    private static IndexEntry Read(Microsoft.Win32.SafeHandles.SafeFileHandle handle, long i)
    {
        Span<byte> bytes = stackalloc byte[IndexEntry.Size];
        var read = RandomAccess.Read(handle, bytes, i * IndexEntry.Size);
        if (read != IndexEntry.Size || !IndexEntry.TryRead(bytes, out var entry))
            throw new IOException($"Index entry {i} is unreadable.");
        return entry;
    }
}
