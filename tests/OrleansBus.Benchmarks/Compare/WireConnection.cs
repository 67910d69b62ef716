using System.Buffers.Text;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace OrleansBus.Benchmarks.Compare;

/// <summary>
/// A blocking loopback TCP connection with one input and one output buffer, for the text protocols of Redis (RESP)
/// and NATS. Single-user, not thread-safe. Writes are buffered until <see cref="Flush"/>, and always flushed before
/// a read blocks, so a server waiting for our pending bytes (acks, PONG) never deadlocks the read. Spans returned by
/// the read methods stay valid only until the next read.
/// </summary>
internal sealed class WireConnection : IDisposable
{
    private readonly Socket _socket;
    private byte[] _in = new byte[1 << 18], _out = new byte[1 << 16];
    private int _start, _end, _outLength;

    private WireConnection(Socket socket) => _socket = socket;

    public static WireConnection Connect(int port)
    {
        // A reply that never comes fails the workload after a minute instead of hanging the run.
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true, ReceiveTimeout = 60_000 };
        socket.Connect(IPAddress.Loopback, port);
        return new WireConnection(socket);
    }

    public bool HasBufferedInput => _end > _start;

    /// <summary>True when a read would not block: input buffered, or arriving within <paramref name="timeoutMs"/> (pending output is sent first).</summary>
    public bool WaitReadable(int timeoutMs)
    {
        if (HasBufferedInput)
            return true;
        Flush();
        return _socket.Poll(TimeSpan.FromMilliseconds(timeoutMs), SelectMode.SelectRead);
    }

    public void Write(ReadOnlySpan<byte> data)
    {
        if (_outLength + data.Length > _out.Length)
            Array.Resize(ref _out, Math.Max(_out.Length * 2, _outLength + data.Length));
        data.CopyTo(_out.AsSpan(_outLength));
        _outLength += data.Length;
    }

    public void Write(string ascii)
    {
        Span<byte> scratch = stackalloc byte[256];
        if (ascii.Length <= scratch.Length)
            Write(scratch[..Encoding.ASCII.GetBytes(ascii, scratch)]);
        else
            Write(Encoding.UTF8.GetBytes(ascii));
    }

    public void Write(long number)
    {
        Span<byte> digits = stackalloc byte[20];
        Utf8Formatter.TryFormat(number, digits, out var written);
        Write(digits[..written]);
    }

    public void Flush()
    {
        for (var sent = 0; sent < _outLength;)
            sent += _socket.Send(_out, sent, _outLength - sent, SocketFlags.None);
        _outLength = 0;
    }

    /// <summary>The next line, without its CRLF.</summary>
    public ReadOnlySpan<byte> ReadLine()
    {
        for (var searched = 0; ; )
        {
            var newline = _in.AsSpan(_start + searched, _end - _start - searched).IndexOf("\r\n"u8);
            if (newline >= 0)
            {
                var line = _in.AsSpan(_start, searched + newline);
                _start += searched + newline + 2;
                return line;
            }
            searched = Math.Max(0, _end - _start - 1);
            Fill(_end - _start + 1);
        }
    }

    /// <summary>Exactly <paramref name="count"/> bytes.</summary>
    public ReadOnlySpan<byte> ReadExact(int count)
    {
        if (_end - _start < count)
            Fill(count);
        var data = _in.AsSpan(_start, count);
        _start += count;
        return data;
    }

    /// <summary>Blocks until at least <paramref name="needed"/> unread bytes are buffered.</summary>
    private void Fill(int needed)
    {
        if (_start > 0 && _start + needed > _in.Length)
        {
            Buffer.BlockCopy(_in, _start, _in, 0, _end - _start);
            (_end, _start) = (_end - _start, 0);
        }
        if (needed > _in.Length)
            Array.Resize(ref _in, Math.Max(needed, _in.Length * 2));
        while (_end - _start < needed)
        {
            Flush();
            var read = _socket.Receive(_in, _end, _in.Length - _end, SocketFlags.None);
            if (read == 0)
                throw new IOException("The server closed the connection.");
            _end += read;
        }
    }

    public void Dispose() => _socket.Dispose();
}
