namespace OrleansBus.Silo.Tests.Archive;

/// <summary>
/// A seekable source whose bytes change after it has been read through once: the first pass sees
/// <c>content</c>, every later read sees one byte flipped at <c>flipAt</c>. It stands for a file changed
/// (or a body corrupted) between the archive hashing the source and sending it.
/// </summary>
internal sealed class ChangingStream(byte[] content, int flipAt) : Stream
{
    private long _position;
    private long _readTotal;

    public override bool CanRead => true;
    public override bool CanSeek => true;
    public override bool CanWrite => false;
    public override long Length => content.Length;

    public override long Position
    {
        get => _position;
        set => _position = value;
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        var firstPass = _readTotal < content.Length;
        var count = (int)Math.Clamp(content.Length - _position, 0, buffer.Length);
        content.AsSpan((int)Math.Min(_position, content.Length), count).CopyTo(buffer);
        if (!firstPass && flipAt >= _position && flipAt < _position + count)
            buffer[(int)(flipAt - _position)] ^= 0x01;
        _position += count;
        _readTotal += count;
        return count;
    }

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
        ValueTask.FromResult(Read(buffer.Span));

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        Task.FromResult(Read(buffer.AsSpan(offset, count)));

    public override long Seek(long offset, SeekOrigin origin) => _position = origin switch
    {
        SeekOrigin.Begin => offset,
        SeekOrigin.Current => _position + offset,
        _ => content.Length + offset,
    };

    public override void Flush()
    {
    }

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
