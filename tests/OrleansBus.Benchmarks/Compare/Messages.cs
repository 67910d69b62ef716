using System.Buffers;
using System.Buffers.Text;

namespace OrleansBus.Benchmarks.Compare;

/// <summary>
/// The message bytes every system gets, identical for all three: "&lt;12-digit sequence&gt; filler\n" (the load
/// generator's format), and for the latency workloads "&lt;sequence&gt; &lt;19-digit Stopwatch timestamp&gt; filler\n".
/// The newline is part of the message for Redis and NATS too, so byte counts agree.
/// </summary>
internal static class Messages
{
    public const int SequenceDigits = ProducePhase.SequenceDigits, TimestampDigits = 19;
    public const int MinTimedBytes = SequenceDigits + TimestampDigits + 3;
    private static readonly StandardFormat SequenceFormat = new('D', SequenceDigits), TimestampFormat = new('D', TimestampDigits);

    /// <summary><paramref name="count"/> messages back to back, printable filler, one '\n' each.</summary>
    public static byte[] Batch(int count, int messageBytes)
    {
        var message = new byte[messageBytes];
        for (var i = SequenceDigits + 1; i < messageBytes - 1; i++)
            message[i] = (byte)('a' + i % 26);
        (message[SequenceDigits], message[^1]) = ((byte)' ', (byte)'\n');
        var batch = new byte[count * messageBytes];
        for (var offset = 0; offset < batch.Length; offset += messageBytes)
            message.CopyTo(batch, offset);
        return batch;
    }

    public static void StampSequences(Span<byte> batch, long first, int messageBytes)
    {
        for (var offset = 0; offset < batch.Length; offset += messageBytes)
            Utf8Formatter.TryFormat(first++, batch.Slice(offset, SequenceDigits), out _, SequenceFormat);
    }

    public static void StampTimestamp(Span<byte> message, long timestamp)
    {
        message[SequenceDigits + 1 + TimestampDigits] = (byte)' ';
        Utf8Formatter.TryFormat(timestamp, message.Slice(SequenceDigits + 1, TimestampDigits), out _, TimestampFormat);
    }

    public static bool TryReadTimestamp(ReadOnlySpan<byte> message, out long timestamp)
    {
        timestamp = 0;
        return message.Length >= MinTimedBytes
            && Utf8Parser.TryParse(message.Slice(SequenceDigits + 1, TimestampDigits), out timestamp, out var used) && used == TimestampDigits;
    }
}
