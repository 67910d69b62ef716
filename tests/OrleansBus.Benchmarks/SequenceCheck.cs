using System.Buffers.Text;
using System.Numerics;

namespace OrleansBus.Benchmarks;

/// <summary>
/// Checks the messages of reply bodies against a produce run of this tool: each message's length, and its
/// sequence number, marked in a bit set shared by all workers (thread-safe) so a lost or duplicated message
/// fails the run even when the totals happen to agree. Used by the read, consume and end-to-end phases.
/// </summary>
internal sealed class SequenceCheck(long expectedMessages, int messageBytes)
{
    private readonly long[] _seen = new long[(expectedMessages + 63) / 64];

    /// <summary>The hot loop: one vectorised newline search, one length check and one bit per message.</summary>
    public void Count(ReadOnlySpan<byte> body, WorkerCounters counters)
    {
        counters.Bytes += body.Length;
        while (!body.IsEmpty)
        {
            var newline = body.IndexOf((byte)'\n');
            if (newline < 0)
            {
                counters.Malformed++; // replies are promised to end at a newline
                return;
            }
            counters.Messages++;
            if (newline + 1 != messageBytes || !TryParseSequence(body, out var sequence))
                counters.Malformed++;
            else
                Mark(sequence, counters);
            body = body[(newline + 1)..];
        }
    }

    /// <summary>Reads the leading sequence digits of a message.</summary>
    public static bool TryParseSequence(ReadOnlySpan<byte> message, out long sequence) =>
        Utf8Parser.TryParse(message[..ProducePhase.SequenceDigits], out sequence, out var used) && used == ProducePhase.SequenceDigits;

    /// <summary>Records one sequence number: counts it as unplanned or duplicate when it is.</summary>
    public void Mark(long sequence, WorkerCounters counters)
    {
        if ((ulong)sequence >= (ulong)expectedMessages)
            counters.OutOfRange++;
        else if ((Interlocked.Or(ref _seen[sequence >> 6], 1L << (int)(sequence & 63)) & (1L << (int)(sequence & 63))) != 0)
            counters.Duplicates++;
    }

    /// <summary>How many distinct sequence numbers were seen; call once the workers have stopped.</summary>
    public long Distinct()
    {
        long distinct = 0;
        foreach (var word in _seen)
            distinct += BitOperations.PopCount((ulong)word);
        return distinct;
    }

    /// <summary>Reads a whole reply body into <paramref name="buffer"/>, growing it only for a reply larger than it.</summary>
    public static async Task<(byte[] Buffer, int Length)> ReadBodyAsync(HttpResponseMessage response, byte[] buffer, CancellationToken ct)
    {
        await using var stream = await response.Content.ReadAsStreamAsync(ct);
        for (var length = 0; ; )
        {
            // A message larger than max_bytes comes back whole, so the buffer may have to grow.
            if (length == buffer.Length)
                Array.Resize(ref buffer, buffer.Length * 2);
            var read = await stream.ReadAsync(buffer.AsMemory(length), ct);
            if (read == 0)
                return (buffer, length);
            length += read;
        }
    }
}
