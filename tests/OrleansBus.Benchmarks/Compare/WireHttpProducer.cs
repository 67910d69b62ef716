using System.Buffers.Text;
using System.Text;
using System.Text.Json;

namespace OrleansBus.Benchmarks.Compare;

/// <summary>
/// Our produce request written straight onto a blocking loopback socket (<see cref="WireConnection"/>, HTTP/1.1
/// keep-alive), the way the Redis and NATS peers write RESP and NATS frames. HttpClient costs the client several times
/// the CPU of those hand-written clients, and on two cores the client's CPU is taken from the server under test.
/// The reply is checked as before: status 200 and a JSON acknowledgement naming every message sent.
/// </summary>
internal sealed class WireHttpProducer : IProducerClient
{
    private readonly WireConnection _connection;
    private readonly byte[] _head;
    private byte[] _body = new byte[4096];

    public WireHttpProducer(Uri silo, string stream, string durability)
    {
        _connection = WireConnection.Connect(silo.Port);
        _head = Encoding.ASCII.GetBytes($"POST /v1/categories/{stream}/messages?durability={durability} HTTP/1.1\r\n" +
            $"Host: {silo.Authority}\r\nContent-Type: application/octet-stream\r\nContent-Length: ");
    }

    public void Produce(ReadOnlyMemory<byte> messages, int messageBytes)
    {
        _connection.Write(_head);
        _connection.Write(messages.Length);
        _connection.Write("\r\n\r\n"u8);
        _connection.Write(messages.Span);
        var status = ReadResponse(out var length);
        var body = _body.AsSpan(0, length);
        if (status != 200)
            throw new HttpRequestException($"produce: HTTP {status} {Encoding.UTF8.GetString(body)}");
        var ack = JsonSerializer.Deserialize(body, BenchJsonContext.Default.ProduceResult);
        if (ack is null || ack.Messages != messages.Length / messageBytes || ack.Length != messages.Length)
            throw new InvalidOperationException($"produce: sent {messages.Length / messageBytes} messages, acknowledged {ack?.Messages}");
    }

    /// <summary>Status of one response, its body left in the body buffer: Content-Length or chunked (what Kestrel sends for a streamed JSON reply).</summary>
    private int ReadResponse(out int bodyLength)
    {
        var statusLine = _connection.ReadLine(); // HTTP/1.1 200 OK
        if (statusLine.Length < 12 || !Utf8Parser.TryParse(statusLine.Slice(9, 3), out int status, out _))
            throw new InvalidOperationException($"produce: not an HTTP status line: {Encoding.ASCII.GetString(statusLine)}");
        long contentLength = -1;
        var chunked = false;
        for (var line = _connection.ReadLine(); line.Length > 0; line = _connection.ReadLine())
        {
            if (line.StartsWith("Content-Length:"u8) && Utf8Parser.TryParse(line[15..].Trim((byte)' '), out long length, out _))
                contentLength = length;
            else if (line.StartsWith("Transfer-Encoding:"u8) && line.IndexOf("chunked"u8) >= 0)
                chunked = true;
        }
        var used = 0;
        if (!chunked)
        {
            if (contentLength < 0)
                throw new InvalidOperationException("produce: a reply with neither Content-Length nor chunked encoding");
            Append(_connection.ReadExact((int)contentLength), ref used);
            bodyLength = used;
            return status;
        }
        while (true)
        {
            var sizeLine = _connection.ReadLine();
            if (!Utf8Parser.TryParse(sizeLine, out int size, out _, 'x'))
                throw new InvalidOperationException($"produce: bad chunk size {Encoding.ASCII.GetString(sizeLine)}");
            if (size == 0)
            {
                while (_connection.ReadLine().Length > 0)
                {
                    // trailers: none expected, skipped
                }
                bodyLength = used;
                return status;
            }
            Append(_connection.ReadExact(size), ref used);
            _connection.ReadLine(); // the CRLF after the chunk
        }
    }

    private void Append(ReadOnlySpan<byte> data, ref int used)
    {
        if (used + data.Length > _body.Length)
            Array.Resize(ref _body, Math.Max(_body.Length * 2, used + data.Length));
        data.CopyTo(_body.AsSpan(used));
        used += data.Length;
    }

    public void Dispose() => _connection.Dispose();
}
