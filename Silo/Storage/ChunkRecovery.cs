using Microsoft.Win32.SafeHandles;

namespace OrleansBus.Silo.Storage;

/// <summary>What recovery found in an active chunk after an unclean stop.</summary>
/// <param name="ValidSize">Bytes of whole, checksummed batches (the chunk's size after recovery).</param>
/// <param name="Messages">Messages in those batches.</param>
/// <param name="Batches">Index entries kept.</param>
/// <param name="CutDataBytes">Torn-tail bytes removed from the data file.</param>
/// <param name="CutIndexBytes">Torn-tail bytes removed from the index file.</param>
/// <param name="CorruptAtOffset">Data offset of the first batch whose checksum failed before the tail; null when healthy.</param>
/// <param name="CorruptReason">Why the chunk is corrupt, when it is.</param>
public sealed record RecoveryResult(
    long ValidSize, long Messages, int Batches, long CutDataBytes, long CutIndexBytes,
    long? CorruptAtOffset, string? CorruptReason)
{
    public bool IsCorrupt => CorruptAtOffset is not null;
}

/// <summary>
/// Walks a chunk's index against its data after an unclean stop. The writer writes a batch's bytes
/// before its index entry, so a process crash leaves at most: data past the last entry, or (with an
/// OS crash) a last entry or last batch that did not fully reach the disk. Those are the torn tail
/// and are cut. A checksum mismatch on any batch that is followed by another whole batch cannot come
/// from a torn write: that is corruption, and the chunk is left untouched for a replica or the archive
/// to serve — never silently truncated in the middle.
/// </summary>
public static class ChunkRecovery
{
    public static RecoveryResult Recover(SafeFileHandle data, SafeFileHandle index, bool truncate = true)
    {
        var dataLength = RandomAccess.GetLength(data);
        var indexLength = RandomAccess.GetLength(index);
        var entryCount = (int)(indexLength / IndexEntry.Size);
        var entries = ReadEntries(index, entryCount);

        long validSize = 0, messages = 0;
        var kept = 0;
        var buffer = System.Buffers.ArrayPool<byte>.Shared.Rent(1 << 20);
        try
        {
            for (var i = 0; i < entries.Count; i++)
            {
                var isLast = i == entries.Count - 1;
                if (entries[i] is not { } entry)
                {
                    if (isLast)
                        break; // torn index entry
                    return Corrupt(validSize, messages, kept, $"index entry {i} is damaged but later entries exist");
                }
                if (entry.EndOffset <= validSize || entry.Messages < 0)
                    return Corrupt(validSize, messages, kept, $"index entry {i} has end offset {entry.EndOffset} not after {validSize}");
                if (entry.EndOffset > dataLength)
                    break; // the batch's bytes never fully reached the file: torn tail (and so is every later entry)
                var crc = BatchCrc(data, validSize, entry.EndOffset, buffer);
                if (crc != entry.BatchCrc)
                {
                    if (isLast)
                        break; // the last batch is torn
                    return Corrupt(validSize, messages, kept, $"batch at offset {validSize} fails its CRC-32C ({crc:x8} != {entry.BatchCrc:x8})");
                }
                validSize = entry.EndOffset;
                messages += entry.Messages;
                kept++;
            }
        }
        finally
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
        }

        var cutData = dataLength - validSize;
        var cutIndex = indexLength - (long)kept * IndexEntry.Size;
        if (truncate)
        {
            if (cutData > 0)
                RandomAccess.SetLength(data, validSize);
            if (cutIndex > 0)
                RandomAccess.SetLength(index, (long)kept * IndexEntry.Size);
        }
        return new RecoveryResult(validSize, messages, kept, cutData, cutIndex, null, null);
    }

    private static RecoveryResult Corrupt(long offset, long messages, int kept, string reason) =>
        new(offset, messages, kept, 0, 0, offset, reason);

    private static List<IndexEntry?> ReadEntries(SafeFileHandle index, int count)
    {
        var bytes = new byte[count * IndexEntry.Size];
        var read = 0;
        while (read < bytes.Length)
        {
            var n = RandomAccess.Read(index, bytes.AsSpan(read), read);
            if (n == 0)
                break;
            read += n;
        }
        var entries = new List<IndexEntry?>(count);
        for (var i = 0; i < count; i++)
            entries.Add(IndexEntry.TryRead(bytes.AsSpan(i * IndexEntry.Size, IndexEntry.Size), out var e) ? e : null);
        return entries;
    }

    /// <summary>CRC-32C of data[start, end), read through <paramref name="buffer"/>.</summary>
    internal static uint BatchCrc(SafeFileHandle data, long start, long end, byte[] buffer)
    {
        var crc = 0xFFFF_FFFFu;
        var position = start;
        while (position < end)
        {
            var want = (int)Math.Min(buffer.Length, end - position);
            var n = RandomAccess.Read(data, buffer.AsSpan(0, want), position);
            if (n == 0)
                throw new IOException($"Unexpected end of chunk data at {position} (expected {end}).");
            crc = Crc32C.Append(crc, buffer.AsSpan(0, n));
            position += n;
        }
        return ~crc;
    }
}
