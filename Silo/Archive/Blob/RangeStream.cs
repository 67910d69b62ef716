namespace OrleansBus.Silo.Archive.Blob;

/// <summary>
/// A read-only, seekable window of exactly <c>length</c> bytes of a seekable source starting at <c>start</c>: what one
/// request body (a Put Blob, a Put Block) sends. Seeking is relative to the window, so the SDK can rewind it to retry;
/// a source that ends early fails the read rather than sending a short body. The source is not disposed.
/// </summary>
internal sealed class RangeStream(Stream source, long start, long length) : Stream
{
    private long _position;

    public override bool CanRead => true;
    public override bool CanSeek => true;
    public override bool CanWrite => false;
    public override long Length => length;

    public override long Position
    {
        get => _position;
        set => _position = value is >= 0 ? Math.Min(value, length) : throw new ArgumentOutOfRangeException(nameof(value));
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        var wanted = (int)Math.Min(buffer.Length, length - _position);
        if (wanted <= 0)
            return 0;
        source.Seek(start + _position, SeekOrigin.Begin);
        var read = source.Read(buffer[..wanted]);
        return Advance(read);
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        var wanted = (int)Math.Min(buffer.Length, length - _position);
        if (wanted <= 0)
            return 0;
        source.Seek(start + _position, SeekOrigin.Begin);
        var read = await source.ReadAsync(buffer[..wanted], cancellationToken);
        return Advance(read);
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    private int Advance(int read)
    {
        if (read == 0)
            throw new IOException($"The upload source ended {length - _position} bytes before the {length} bytes announced.");
        _position += read;
        return read;
    }

    public override long Seek(long offset, SeekOrigin origin) => Position = origin switch
    {
        SeekOrigin.Begin => offset,
        SeekOrigin.Current => _position + offset,
        _ => length + offset,
    };

    public override void Flush()
    {
    }

    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
