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
/// A produce body, validated as it arrives and left in the request's own pipe buffers: nothing is
/// consumed until the writer has written it, so the bytes go from Kestrel's receive buffers straight to
/// the chunk file with one vectored write (no second copy). The whole request is checked before the writer
/// sees any of it, so a refused request leaves no trace; validation stops at the first violation, so an
/// oversized body is never buffered whole. Messages are counted with a vectorised newline count; the
/// per-message length check runs only where a span could hold a message over the limit.
/// Requires Kestrel's MaxRequestBufferSize above MaxRequestBytes (see SiloSetup), or the transport would
/// stop reading while we hold the body. Dispose consumes the body.
/// </summary>
public sealed class ProduceBatch : IDisposable
{
    private readonly PipeReader? _reader;
    private bool _holdsRead;

    private ProduceBatch(PipeReader? reader) => _reader = reader;

    public ReadOnlySequence<byte> Body { get; private set; }
    public long Length => Body.Length;
    public int Messages { get; private set; }
    public uint Crc { get; private set; }
    public BatchError Error { get; private set; }

    /// <summary>For errors: the failing message's 1-based number, and its size so far or the body size.</summary>
    public long ErrorMessageNumber { get; private set; }
    public long ErrorValue { get; private set; }

    public static async Task<ProduceBatch> ReadAsync(PipeReader body, int maxMessageBytes, int maxRequestBytes, CancellationToken cancellationToken)
    {
        var batch = new ProduceBatch(body);
        var scan = new MessageScan(maxMessageBytes);
        var crc = 0xFFFF_FFFFu;
        long scanned = 0;
        while (true)
        {
            var result = await body.ReadAsync(cancellationToken);
            var buffer = result.Buffer;
            batch._holdsRead = true;
            batch.Body = buffer; // what Dispose consumes if we stop here
            if (buffer.Length > maxRequestBytes)
                return batch.Fail(BatchError.RequestTooLarge, 0, buffer.Length);
            foreach (var segment in buffer.Slice(scanned))
            {
                var span = segment.Span;
                if (!scan.Accept(span))
                    return batch.Fail(BatchError.MessageTooLarge, scan.Messages + 1, scan.CurrentMessageBytes);
                crc = Crc32C.Append(crc, span);
            }
            scanned = buffer.Length;
            if (result.IsCompleted || result.IsCanceled)
            {
                // Keep this read outstanding: its buffers are what the writer writes; Dispose consumes them.
                break;
            }
            body.AdvanceTo(buffer.Start, buffer.End); // examined all, consumed nothing
            batch._holdsRead = false;
        }
        if (batch.Length == 0)
            return batch.Fail(BatchError.Empty, 0, 0);
        if (LastByte(batch.Body) != (byte)'\n')
            return batch.Fail(BatchError.MissingTrailingNewline, scan.Messages + 1, scan.CurrentMessageBytes);
        batch.Messages = scan.Messages;
        batch.Crc = ~crc;
        return batch;
    }

    /// <summary>
    /// Validates a body that is already whole in memory (an Orleans client's batch) by the same rules; the caller owns
    /// <paramref name="body"/>, and Dispose does nothing.
    /// </summary>
    public static ProduceBatch FromSequence(ReadOnlySequence<byte> body, int maxMessageBytes, int maxRequestBytes)
    {
        var batch = new ProduceBatch(null) { Body = body };
        if (body.Length > maxRequestBytes)
            return batch.Fail(BatchError.RequestTooLarge, 0, body.Length);
        var scan = new MessageScan(maxMessageBytes);
        var crc = 0xFFFF_FFFFu;
        foreach (var segment in body)
        {
            if (!scan.Accept(segment.Span))
                return batch.Fail(BatchError.MessageTooLarge, scan.Messages + 1, scan.CurrentMessageBytes);
            crc = Crc32C.Append(crc, segment.Span);
        }
        if (body.Length == 0)
            return batch.Fail(BatchError.Empty, 0, 0);
        if (LastByte(body) != (byte)'\n')
            return batch.Fail(BatchError.MissingTrailingNewline, scan.Messages + 1, scan.CurrentMessageBytes);
        batch.Messages = scan.Messages;
        batch.Crc = ~crc;
        return batch;
    }

    private static byte LastByte(in ReadOnlySequence<byte> body) => body.Slice(body.Length - 1).FirstSpan[0];

    private ProduceBatch Fail(BatchError error, long messageNumber, long value)
    {
        Error = error;
        ErrorMessageNumber = messageNumber;
        ErrorValue = value;
        return this;
    }

    public void Dispose()
    {
        if (_holdsRead)
        {
            _holdsRead = false;
            _reader!.AdvanceTo(Body.End);
        }
    }
}

/// <summary>Counts newline-terminated messages across segments and checks each against the size limit.</summary>
internal struct MessageScan(int maxMessageBytes)
{
    /// <summary>Whole messages seen so far.</summary>
    public int Messages;

    /// <summary>Bytes of the message in progress (after the last newline).</summary>
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
