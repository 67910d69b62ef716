namespace OrleansBus.Gateway.Api;

/// <summary>
/// A read-only view of the client's request body that counts what was taken from it. The count is what makes a
/// retry safe: once any byte went towards a silo it cannot be replayed (bodies are streamed, never kept), so a
/// request whose body was touched is never sent to a second silo. Also remembers a failure of the client side,
/// so a broken upload is not blamed on the silo. Never disposes the inner stream (Kestrel owns it).
/// One reader at a time, like every request body.
/// </summary>
internal sealed class CountingReadStream(Stream inner) : Stream
{
    private long _bytesRead;

    /// <summary>Bytes handed out so far.</summary>
    public long BytesRead => Volatile.Read(ref _bytesRead);

    /// <summary>Whether reading the client's body threw (client gone, malformed framing).</summary>
    public bool ClientFailed { get; private set; }

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        // Account before the read: a read that throws may already have consumed client bytes.
        Interlocked.Increment(ref _bytesRead);
        try
        {
            var read = inner.Read(buffer);
            Interlocked.Add(ref _bytesRead, read - 1L);
            return read;
        }
        catch (IOException)
        {
            ClientFailed = true;
            throw;
        }
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        Interlocked.Increment(ref _bytesRead);
        try
        {
            var read = await inner.ReadAsync(buffer, cancellationToken);
            Interlocked.Add(ref _bytesRead, read - 1L);
            return read;
        }
        catch (IOException)
        {
            ClientFailed = true;
            throw;
        }
    }

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
