using System.Buffers;
using System.Net;

namespace OrleansBus.Silo.Archive.Blob;

/// <summary>
/// A request body of exactly <c>length</c> bytes of a seekable source starting at <c>start</c>. Each send
/// seeks first, so the handler may send it again (a stale pooled connection); a source that ends early
/// fails the request rather than sending a short body. The source is not disposed.
/// </summary>
internal sealed class SourceRangeContent : HttpContent
{
    private readonly Stream _source;
    private readonly long _start;
    private readonly long _length;

    public SourceRangeContent(Stream source, long start, long length)
    {
        _source = source;
        _start = start;
        _length = length;
        Headers.ContentLength = length;
    }

    protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) =>
        SerializeToStreamAsync(stream, context, CancellationToken.None);

    protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context, CancellationToken cancellationToken)
    {
        _source.Seek(_start, SeekOrigin.Begin);
        var buffer = ArrayPool<byte>.Shared.Rent(1 << 20);
        try
        {
            var left = _length;
            while (left > 0)
            {
                var read = await _source.ReadAsync(buffer.AsMemory(0, (int)Math.Min(buffer.Length, left)), cancellationToken);
                if (read == 0)
                    throw new IOException($"The upload source ended {left} bytes before the {_length} bytes announced.");
                await stream.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
                left -= read;
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    protected override bool TryComputeLength(out long length)
    {
        length = _length;
        return true;
    }
}
