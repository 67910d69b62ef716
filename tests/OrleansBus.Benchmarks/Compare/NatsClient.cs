using System.Buffers.Text;
using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;

namespace OrleansBus.Benchmarks.Compare;

/// <summary>One message as read: subject, reply subject, status (from HMSG headers, 0 if none), headers and payload.</summary>
internal readonly ref struct NatsMessage(ReadOnlySpan<byte> subject, ReadOnlySpan<byte> reply, int status, ReadOnlySpan<byte> headers, ReadOnlySpan<byte> payload)
{
    public ReadOnlySpan<byte> Subject { get; } = subject;
    public ReadOnlySpan<byte> Reply { get; } = reply;
    public int Status { get; } = status;
    public ReadOnlySpan<byte> Headers { get; } = headers;
    public ReadOnlySpan<byte> Payload { get; } = payload;

    /// <summary>"408 Request Timeout" from "NATS/1.0 408 Request Timeout\r\n...", for error messages.</summary>
    public string StatusLine()
    {
        var end = Headers.IndexOf("\r\n"u8);
        var line = end < 0 ? Headers : Headers[..end];
        return Encoding.ASCII.GetString(line.Length > 9 ? line[9..] : line);
    }
}

/// <summary>
/// A minimal NATS client over the text protocol (CONNECT with headers, PUB, SUB, MSG/HMSG, PING/PONG) on a
/// <see cref="WireConnection"/>, single-user and blocking. Every reply (JetStream API answers, publish acks,
/// pulled messages) comes to one wildcard subscription on this connection's own inbox. JetStream is reached
/// through its API subjects (<c>$JS.API...</c>), as the official clients do.
/// </summary>
internal sealed class NatsClient : IDisposable
{
    /// <summary>How long a request waits for its answer (an API reply, a publish ack) before the workload fails.</summary>
    public const int ReplyTimeoutMs = 60_000;
    private readonly WireConnection _c;
    private readonly byte[] _subject = new byte[512], _reply = new byte[512];
    private int _requests;

    private NatsClient(WireConnection c) => _c = c;

    public string Inbox { get; } = "_INBOX." + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8));

    public static NatsClient Connect(int port)
    {
        var client = new NatsClient(WireConnection.Connect(port));
        var c = client._c;
        if (!c.ReadLine().StartsWith("INFO "u8))
            throw new IOException("nats: no INFO on connect");
        c.Write("CONNECT {\"verbose\":false,\"pedantic\":false,\"headers\":true,\"no_responders\":true,\"protocol\":1,\"lang\":\"dotnet-bench\"}\r\nPING\r\n"u8);
        c.Write($"SUB {client.Inbox}.> 1\r\n");
        c.Flush();
        while (!c.ReadLine().SequenceEqual("PONG"u8))
        {
            // +OK or INFO until the PONG answers our PING: then the CONNECT and SUB are in effect.
        }
        return client;
    }

    public void Publish(ReadOnlySpan<byte> subject, ReadOnlySpan<byte> reply, ReadOnlySpan<byte> payload)
    {
        _c.Write("PUB "u8);
        _c.Write(subject);
        if (!reply.IsEmpty)
        {
            _c.Write(" "u8);
            _c.Write(reply);
        }
        _c.Write(" "u8);
        _c.Write(payload.Length);
        _c.Write("\r\n"u8);
        _c.Write(payload);
        _c.Write("\r\n"u8);
    }

    public void Flush() => _c.Flush();

    public bool WaitReadable(int timeoutMs) => _c.WaitReadable(timeoutMs);

    /// <summary>A JetStream API call: publishes <paramref name="json"/> and waits for the answer; an "error" answer throws.</summary>
    public string Request(string subject, string json)
    {
        var reply = Encoding.ASCII.GetBytes($"{Inbox}.r{++_requests}");
        Publish(Encoding.ASCII.GetBytes(subject), reply, Encoding.UTF8.GetBytes(json));
        while (true)
        {
            var m = Next($"answer to {subject}");
            if (!m.Subject.SequenceEqual(reply))
                continue;
            var answer = Encoding.UTF8.GetString(m.Payload);
            return m.Status >= 400 || answer.Contains("\"error\"", StringComparison.Ordinal)
                ? throw new IOException($"nats: {subject} answered {m.Status} {answer}") : answer;
        }
    }

    /// <summary>The next MSG or HMSG; a <see cref="TimeoutException"/> naming <paramref name="awaited"/> if none comes within <see cref="ReplyTimeoutMs"/>.</summary>
    public NatsMessage Next(string awaited) =>
        TryNext(ReplyTimeoutMs, out var m) ? m : throw new TimeoutException($"nats: no {awaited} within {ReplyTimeoutMs / 1000} s");

    /// <summary>
    /// Waits up to <paramref name="timeoutMs"/> (pending output is sent first) for the next MSG or HMSG, answering
    /// PINGs and skipping INFO on the way; false if none came. -ERR throws. The wait covers control lines too, so a
    /// PING never turns a bounded wait into a blocking read.
    /// </summary>
    public bool TryNext(int timeoutMs, out NatsMessage message)
    {
        var deadline = Stopwatch.GetTimestamp() + timeoutMs * Stopwatch.Frequency / 1000;
        // Remaining time rounded up, so the wait never ends before the deadline.
        while (_c.WaitReadable((int)Math.Max(0, (deadline - Stopwatch.GetTimestamp() + Stopwatch.Frequency / 1000 - 1) * 1000 / Stopwatch.Frequency)))
        {
            var line = _c.ReadLine();
            if (line.StartsWith("MSG "u8) || line.StartsWith("HMSG "u8))
            {
                message = ReadMessage(line);
                return true;
            }
            if (line.SequenceEqual("PING"u8))
                _c.Write("PONG\r\n"u8); // flushed by the next wait
            else if (line.StartsWith("-ERR"u8))
                throw new IOException("nats: " + Encoding.UTF8.GetString(line));
        }
        message = default;
        return false;
    }

    // MSG <subject> <sid> [reply] <bytes>   |   HMSG <subject> <sid> [reply] <header bytes> <total bytes>
    private NatsMessage ReadMessage(ReadOnlySpan<byte> line)
    {
        var headers = line[0] == (byte)'H';
        Span<Range> parts = stackalloc Range[7];
        var count = Split(line, parts);
        var hasReply = count == (headers ? 6 : 5);
        // Copied out: reading the payload may move the buffer the line lies in.
        var subjectLength = Copy(line[parts[1]], _subject);
        var replyLength = hasReply ? Copy(line[parts[3]], _reply) : 0;
        var total = Number(line[parts[count - 1]]);
        var headerBytes = headers ? Number(line[parts[count - 2]]) : 0;
        var data = _c.ReadExact(total + 2)[..total];
        var status = 0;
        // "NATS/1.0 408 Request Timeout\r\n...": a status line from the server, not a stored message.
        if (headerBytes >= 12 && data[8] == (byte)' ' && Utf8Parser.TryParse(data.Slice(9, 3), out int code, out _))
            status = code;
        return new NatsMessage(_subject.AsSpan(0, subjectLength), _reply.AsSpan(0, replyLength), status, data[..headerBytes], data[headerBytes..]);
    }

    private static int Split(ReadOnlySpan<byte> line, Span<Range> parts)
    {
        var (count, start) = (0, 0);
        for (var i = 0; i <= line.Length && count < parts.Length; i++)
        {
            if (i < line.Length && line[i] != (byte)' ')
                continue;
            if (i > start)
                parts[count++] = new Range(start, i);
            start = i + 1;
        }
        return count;
    }

    private static int Copy(ReadOnlySpan<byte> from, byte[] to)
    {
        from.CopyTo(to);
        return from.Length;
    }

    private static int Number(ReadOnlySpan<byte> digits) =>
        Utf8Parser.TryParse(digits, out int n, out var used) && used == digits.Length ? n : throw new IOException("nats: bad size in a MSG line");

    public void Dispose() => _c.Dispose();
}
