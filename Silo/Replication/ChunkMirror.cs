using Microsoft.Win32.SafeHandles;
using OrleansBus.Silo.Storage;

namespace OrleansBus.Silo.Replication;

/// <summary>What a copy holds: data bytes, index bytes (32 per batch) and messages.</summary>
public readonly record struct MirrorPosition(long Size, long IndexLength, long Messages);

/// <summary>
/// The local copy of another silo's chunk: the same two files the owner has (<c>&lt;chunk&gt;</c> and
/// <c>&lt;chunk&gt;.idx</c>, byte-exact), filled by appends of whole batches at the copy's own end — pushed by the
/// owner (a replica) or pulled by this silo when a reader needs the bytes. Every batch is checked against its index
/// entry's CRC-32C before it is written, so a copy never holds bytes the owner did not write. One append at a time
/// (a semaphore); readers see the new size only after both files are written.
/// </summary>
internal sealed class ChunkMirror : IDisposable
{
    private readonly Chunk _chunk;
    private readonly CategoryLog _log;
    private readonly SemaphoreSlim _appendLock = new(1, 1);
    private SafeFileHandle? _data;
    private SafeFileHandle? _index;
    private long _indexLength;

    private ChunkMirror(Chunk chunk, CategoryLog log, long indexLength)
    {
        _chunk = chunk;
        _log = log;
        _indexLength = indexLength;
    }

    public MirrorPosition Position => new(_chunk.Size, Volatile.Read(ref _indexLength), _chunk.Messages);

    private long _lastAppendTicks = -1;

    /// <summary>Time since bytes last arrived (pushed or pulled); null when none ever did in this process.</summary>
    public TimeSpan? SinceLastAppend
    {
        get
        {
            var last = Volatile.Read(ref _lastAppendTicks);
            return last < 0 ? null : TimeSpan.FromMilliseconds(Environment.TickCount64 - last);
        }
    }

    /// <summary>
    /// Opens (or creates) the copy's files for <paramref name="chunk"/>. A copy left by an earlier run is recovered like an
    /// owner's chunk (torn tail cut); a damaged one is emptied and fetched again, since the owner or a replica has it.
    /// </summary>
    public static ChunkMirror Open(Chunk chunk, CategoryLog log)
    {
        var data = File.OpenHandle(chunk.DataPath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.ReadWrite | FileShare.Delete);
        var index = File.OpenHandle(chunk.IndexPath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.ReadWrite | FileShare.Delete);
        var result = ChunkRecovery.Recover(data, index);
        long size = result.ValidSize, messages = result.Messages, indexLength = (long)result.Batches * IndexEntry.Size;
        if (result.IsCorrupt)
        {
            RandomAccess.SetLength(data, 0);
            RandomAccess.SetLength(index, 0);
            size = messages = indexLength = 0;
        }
        chunk.Publish(size, messages);
        return new ChunkMirror(chunk, log, indexLength) { _data = data, _index = index };
    }

    /// <summary>
    /// Appends whole batches at the copy's end. <paramref name="offset"/> and <paramref name="indexOffset"/> must equal
    /// what the copy holds (else nothing is written and the copy's position is returned, for the sender to resume from
    /// there). Throws <see cref="InvalidDataException"/> when the bytes do not match their index entries.
    /// </summary>
    public async Task<(bool Appended, MirrorPosition Position)> AppendAsync(long offset, long indexOffset, ReadOnlyMemory<byte> data, ReadOnlyMemory<byte> index, CancellationToken cancellationToken)
    {
        await _appendLock.WaitAsync(cancellationToken);
        try
        {
            ObjectDisposedException.ThrowIf(_data is null || _index is null, this);
            if (offset != _chunk.Size || indexOffset != _indexLength)
                return (false, Position);
            if (data.Length == 0 && index.Length == 0)
                return (true, Position);
            var messages = Validate(offset, data.Span, index.Span);
            RandomAccess.Write(_data!, data.Span, offset);
            RandomAccess.Write(_index!, index.Span, indexOffset);
            Volatile.Write(ref _indexLength, indexOffset + index.Length);
            Volatile.Write(ref _lastAppendTicks, Environment.TickCount64);
            _chunk.Publish(offset + data.Length, _chunk.Messages + messages);
            _log.SignalDataArrived();
            return (true, Position);
        }
        finally
        {
            _appendLock.Release();
        }
    }

    /// <summary>Checks that the index entries tile the data exactly and that every batch's CRC-32C matches; returns the messages.</summary>
    private static long Validate(long offset, ReadOnlySpan<byte> data, ReadOnlySpan<byte> index)
    {
        if (index.Length % IndexEntry.Size != 0)
            throw new InvalidDataException($"Index bytes {index.Length} are not a multiple of {IndexEntry.Size}.");
        long start = offset, messages = 0;
        for (var i = 0; i < index.Length; i += IndexEntry.Size)
        {
            if (!IndexEntry.TryRead(index.Slice(i, IndexEntry.Size), out var entry))
                throw new InvalidDataException($"Index entry {i / IndexEntry.Size} fails its checksum.");
            if (entry.EndOffset <= start || entry.EndOffset > offset + data.Length)
                throw new InvalidDataException($"Index entry ends at {entry.EndOffset}, outside the {data.Length} bytes sent from {offset}.");
            var batch = data.Slice((int)(start - offset), (int)(entry.EndOffset - start));
            if (Crc32C.Compute(batch) != entry.BatchCrc || batch[^1] != (byte)'\n')
                throw new InvalidDataException($"The batch at {start} does not match its checksum.");
            messages += entry.Messages;
            start = entry.EndOffset;
        }
        if (start != offset + data.Length)
            throw new InvalidDataException($"The index covers {start - offset} of the {data.Length} bytes sent.");
        return messages;
    }

    /// <summary>Makes the copy durable (before a replica seals it for a dead owner).</summary>
    public async Task SyncAsync()
    {
        await _appendLock.WaitAsync();
        try
        {
            if (_data is not null && _index is not null)
            {
                NativeFile.DataSync(_data);
                NativeFile.DataSync(_index);
            }
        }
        finally
        {
            _appendLock.Release();
        }
    }

    public void Dispose()
    {
        _appendLock.Wait();
        try
        {
            _data?.Dispose();
            _index?.Dispose();
            _data = _index = null;
        }
        finally
        {
            _appendLock.Release();
        }
    }
}
