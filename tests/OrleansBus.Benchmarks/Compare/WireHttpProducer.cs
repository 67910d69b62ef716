using System.Buffers;
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
    private readonly ArrayBufferWriter<byte> _body = new(4096);

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
        var status = ReadResponse();
        if (status != 200)
            throw new HttpRequestException($"produce: HTTP {status} {Encoding.UTF8.GetString(_body.WrittenSpan)}");
        OrleansBusPeer.EnsureAcknowledged(JsonSerializer.Deserialize(_body.WrittenSpan, BenchJsonContext.Default.ProduceResult), messages.Length, messageBytes);
    }

    /// <summary>Status of one response, its body left in <see cref="_body"/>: Content-Length or chunked (what Kestrel sends for a streamed JSON reply).</summary>
    private int ReadResponse()
    {
        _body.ResetWrittenCount();
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
        if (!chunked)
        {
            if (contentLength < 0)
                throw new InvalidOperationException("produce: a reply with neither Content-Length nor chunked encoding");
            _body.Write(_connection.ReadExact((int)contentLength));
            return status;
        }
        for (var sizeLine = _connection.ReadLine(); ; sizeLine = _connection.ReadLine())
        {
            if (!Utf8Parser.TryParse(sizeLine, out int size, out _, 'x'))
                throw new InvalidOperationException($"produce: bad chunk size {Encoding.ASCII.GetString(sizeLine)}");
            if (size == 0)
                break;
            _body.Write(_connection.ReadExact(size));
            _connection.ReadLine(); // the CRLF after the chunk
        }
        while (_connection.ReadLine().Length > 0)
        {
            // trailers after the last chunk: none expected, skipped up to the empty line
        }
        return status;
    }

    public void Dispose() => _connection.Dispose();
}
