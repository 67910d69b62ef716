using System.Buffers;
using System.IO.Pipelines;

namespace OrleansBus.Silo.Storage;

/// <summary>Why a produce body was refused. Nothing of it was written.</summary>
public enum BatchError
{
    None,
    Empty,
    MissingTrailingNewline,
    MessageTooLarge,
    RequestTooLarge,
}

/// <summary>
/// A produce body read into one pooled buffer and validated on the way in: the whole request is checked
/// before the writer sees any of it, so a refused request leaves no trace. Validation stops at the first
/// violation, so an oversized body is never buffered whole. Messages are counted with a vectorised
/// newline count; the per-message length check runs only when a span could hold a message over the limit.
/// Dispose returns the buffer.
/// </summary>
public sealed class ProduceBatch : IDisposable
{
    private byte[] _buffer;

    private ProduceBatch(byte[] buffer) => _buffer = buffer;

    public int Length { get; private set; }
    public int Messages { get; private set; }
    public uint Crc { get; private set; }
    public BatchError Error { get; private set; }

    /// <summary>For errors: the failing message's 1-based number, and its size so far or the body size.</summary>
    public long ErrorMessageNumber { get; private set; }
    public long ErrorValue { get; private set; }

    public ReadOnlyMemory<byte> Memory => _buffer.AsMemory(0, Length);

    public static async Task<ProduceBatch> ReadAsync(PipeReader body, long? contentLength, int maxMessageBytes, int maxRequestBytes, CancellationToken cancellationToken)
    {
        var initial = contentLength is > 0 && contentLength <= maxRequestBytes ? (int)contentLength.Value : 64 * 1024;
        var batch = new ProduceBatch(ArrayPool<byte>.Shared.Rent(initial));
        var scan = new MessageScan(maxMessageBytes);
        var crc = 0xFFFF_FFFFu;
        try
        {
            while (true)
            {
                var result = await body.ReadAsync(cancellationToken);
                var buffer = result.Buffer;
                foreach (var segment in buffer)
                {
                    if ((long)batch.Length + segment.Length > maxRequestBytes)
                        return batch.Fail(BatchError.RequestTooLarge, 0, (long)batch.Length + segment.Length);
                    var span = segment.Span;
                    if (!scan.Accept(span))
                        return batch.Fail(BatchError.MessageTooLarge, scan.Messages + 1, scan.CurrentMessageBytes);
                    crc = Crc32C.Append(crc, span);
                    batch.Append(span);
                }
                body.AdvanceTo(buffer.End);
                if (result.IsCompleted)
                    break;
            }
        }
        catch
        {
            batch.Dispose();
            throw;
        }
        if (batch.Length == 0)
            return batch.Fail(BatchError.Empty, 0, 0);
        if (batch._buffer[batch.Length - 1] != (byte)'\n')
            return batch.Fail(BatchError.MissingTrailingNewline, scan.Messages + 1, scan.CurrentMessageBytes);
        batch.Messages = scan.Messages;
        batch.Crc = ~crc;
        return batch;
    }

    private ProduceBatch Fail(BatchError error, long messageNumber, long value)
    {
        Error = error;
        ErrorMessageNumber = messageNumber;
        ErrorValue = value;
        return this;
    }

    private void Append(ReadOnlySpan<byte> span)
    {
        if (Length + span.Length > _buffer.Length)
        {
            var bigger = ArrayPool<byte>.Shared.Rent(Math.Max(Length + span.Length, _buffer.Length * 2));
            _buffer.AsSpan(0, Length).CopyTo(bigger);
            ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = bigger;
        }
        span.CopyTo(_buffer.AsSpan(Length));
        Length += span.Length;
    }

    public void Dispose()
    {
        var buffer = Interlocked.Exchange(ref _buffer, []);
        if (buffer.Length > 0)
            ArrayPool<byte>.Shared.Return(buffer);
    }
}

/// <summary>Counts newline-terminated messages across segments and checks each against the size limit.</summary>
internal struct MessageScan(int maxMessageBytes)
{
    /// <summary>Whole messages seen so far.</summary>
    public int Messages;

    /// <summary>Bytes of the message in progress (after the last newline), including its newline once seen.</summary>
    public long CurrentMessageBytes;

    public bool Accept(ReadOnlySpan<byte> span)
    {
        // Fast path: no message in this span can exceed the limit, so only count.
        if (CurrentMessageBytes + span.Length <= maxMessageBytes)
        {
            var lastNewline = span.LastIndexOf((byte)'\n');
            if (lastNewline < 0)
            {
                CurrentMessageBytes += span.Length;
                return true;
            }
            Messages += span.Count((byte)'\n');
            CurrentMessageBytes = span.Length - lastNewline - 1;
            return true;
        }
        while (!span.IsEmpty)
        {
            var newline = span.IndexOf((byte)'\n');
            var take = newline < 0 ? span.Length : newline + 1;
            CurrentMessageBytes += take;
            if (CurrentMessageBytes > maxMessageBytes)
                return false;
            if (newline < 0)
                return true;
            Messages++;
            CurrentMessageBytes = 0;
            span = span[take..];
        }
        return true;
    }
}
