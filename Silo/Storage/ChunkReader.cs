using System.Buffers;

namespace OrleansBus.Silo.Storage;

/// <summary>The bytes of one raw read, in a pooled buffer. Dispose returns it.</summary>
public sealed class ChunkSlice(byte[] buffer, int length, long nextOffset) : IDisposable
{
    private byte[]? _buffer = buffer;
    private int _length = length;

    public ReadOnlyMemory<byte> Memory => (_buffer ?? []).AsMemory(0, _length);
    public long NextOffset { get; private set; } = nextOffset;

    /// <summary>Keeps only the first <paramref name="length"/> bytes (a whole-message prefix).</summary>
    public void Cut(int length)
    {
        NextOffset -= _length - length;
        _length = length;
    }

    public void Dispose()
    {
        var buffer = Interlocked.Exchange(ref _buffer, null);
        if (buffer is { Length: > 0 })
            ArrayPool<byte>.Shared.Return(buffer);
    }
}

/// <summary>
/// Raw reads: up to <c>maxBytes</c> from an offset, cut back to the last newline so a reply never holds
/// half a message. A single message longer than <c>maxBytes</c> is returned whole (otherwise a reader
/// would loop for ever). Reads only up to the chunk's published size: whole batches, so the region always
/// ends with a newline. Thread safe (pread on a shared handle).
/// </summary>
public static class ChunkReader
{
    private const int TailWindowBytes = 64 * 1024;
    private const int CopyStepBytes = 256 * 1024;

    /// <summary>
    /// Where a read of up to <paramref name="maxBytes"/> from <paramref name="offset"/> ends (after the last
    /// newline), found by reading only the last 64 KiB of the range; null when no newline is there (a
    /// message over 64 KiB straddles the cut), and the caller falls back to <see cref="Read"/>.
    /// </summary>
    public static long? PlanEnd(Chunk chunk, long offset, int maxBytes)
    {
        var size = chunk.Size;
        var available = size - offset;
        if (available <= maxBytes)
            return size; // published data is whole batches: it ends with a newline
        var end = offset + maxBytes;
        var window = (int)Math.Min(TailWindowBytes, maxBytes);
        var buffer = ArrayPool<byte>.Shared.Rent(window);
        try
        {
            var read = ReadExactly(chunk.ReadHandle(), buffer, 0, window, end - window);
            var lastNewline = buffer.AsSpan(0, read).LastIndexOf((byte)'\n');
            return lastNewline < 0 ? null : end - window + lastNewline + 1;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>Copies [offset, end) of the chunk into <paramref name="writer"/>: pread straight into its buffers, no intermediate array.</summary>
    public static async Task CopyToAsync(Chunk chunk, long offset, long end, System.IO.Pipelines.PipeWriter writer, CancellationToken cancellationToken)
    {
        var handle = chunk.ReadHandle();
        var position = offset;
        long unflushed = 0;
        while (position < end)
        {
            var memory = writer.GetMemory((int)Math.Min(end - position, CopyStepBytes));
            var want = (int)Math.Min(memory.Length, end - position);
            var read = RandomAccess.Read(handle, memory.Span[..want], position);
            if (read == 0)
                throw new IOException($"Chunk {chunk.Name} ended at {position}, before its published size {end}.");
            writer.Advance(read);
            position += read;
            unflushed += read;
            if (unflushed >= CopyStepBytes)
            {
                await writer.FlushAsync(cancellationToken);
                unflushed = 0;
            }
        }
        await writer.FlushAsync(cancellationToken);
    }

    public static ChunkSlice Read(Chunk chunk, long offset, int maxBytes)
    {
        var size = chunk.Size;
        var available = size - offset;
        if (available <= 0)
            return new ChunkSlice([], 0, offset);
        var want = (int)Math.Min(available, maxBytes);
        var handle = chunk.ReadHandle();
        var buffer = ArrayPool<byte>.Shared.Rent(want);
        var length = ReadExactly(handle, buffer, 0, want, offset);
        if (length < available)
        {
            var lastNewline = buffer.AsSpan(0, length).LastIndexOf((byte)'\n');
            if (lastNewline >= 0)
            {
                length = lastNewline + 1;
            }
            else
            {
                // One message longer than maxBytes: extend to its newline (it exists: published data is whole batches).
                (buffer, length) = ExtendToNewline(handle, buffer, length, offset, size);
            }
        }
        return new ChunkSlice(buffer, length, offset + length);
    }

    private static (byte[] Buffer, int Length) ExtendToNewline(Microsoft.Win32.SafeHandles.SafeFileHandle handle, byte[] buffer, int length, long offset, long size)
    {
        while (true)
        {
            if (length == buffer.Length)
            {
                var bigger = ArrayPool<byte>.Shared.Rent((int)Math.Min(size - offset, (long)buffer.Length * 2));
                buffer.AsSpan(0, length).CopyTo(bigger);
                ArrayPool<byte>.Shared.Return(buffer);
                buffer = bigger;
            }
            var want = (int)Math.Min(buffer.Length - length, size - offset - length);
            if (want <= 0)
                return (buffer, length);
            var start = length;
            length += ReadExactly(handle, buffer, start, want, offset + start);
            var newline = buffer.AsSpan(start, length - start).IndexOf((byte)'\n');
            if (newline >= 0)
                return (buffer, start + newline + 1);
        }
    }

    private static int ReadExactly(Microsoft.Win32.SafeHandles.SafeFileHandle handle, byte[] buffer, int start, int count, long fileOffset)
    {
        var done = 0;
        while (done < count)
        {
            var n = RandomAccess.Read(handle, buffer.AsSpan(start + done, count - done), fileOffset + done);
            if (n == 0)
                break;
            done += n;
        }
        return done;
    }
}
