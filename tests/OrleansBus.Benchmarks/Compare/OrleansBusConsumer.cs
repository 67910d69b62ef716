using System.Net;
using System.Text.Json;
using OrleansBus.Contracts;

namespace OrleansBus.Benchmarks.Compare;

/// <summary>
/// A consumer-group member of our silo: <c>poll</c> (raw newline-delimited body, up to max_bytes / max_messages,
/// long-polling wait_ms) → each message to the sink → one <c>ack</c> of the delivery token (204 expected).
/// </summary>
internal sealed class OrleansBusConsumer : IConsumerClient
{
    private const int LeaseMs = 60_000;
    private readonly HttpClient _client;
    private readonly string _pollPrefix;
    private readonly Uri _ackUri;
    private byte[] _buffer = new byte[(1 << 20) + 4096];

    public OrleansBusConsumer(HttpClient client, Uri url, string stream, string group, string consumer, bool fromStart)
    {
        _client = client;
        var path = $"v1/categories/{stream}/groups/{group}";
        _pollPrefix = new Uri(url, $"{path}/poll?lease_ms={LeaseMs}&consumer={consumer}&start={(fromStart ? "earliest" : "latest")}").AbsoluteUri;
        _ackUri = new Uri(url, $"{path}/ack");
    }

    public int FetchAndAck(int maxMessages, int maxBytes, int waitMs, MessageSink sink)
    {
        using var poll = new HttpRequestMessage(HttpMethod.Post, $"{_pollPrefix}&max_bytes={maxBytes}&max_messages={maxMessages}&wait_ms={waitMs}");
        using var polled = _client.Send(poll, HttpCompletionOption.ResponseHeadersRead);
        if (polled.StatusCode == HttpStatusCode.NoContent)
            return 0;
        OrleansBusPeer.Ensure(polled, "poll");
        var length = ReadAll(polled);
        var token = ConsumePhase.Header(polled, BusHeaders.Delivery);
        var messages = 0;
        for (var body = _buffer.AsSpan(0, length); !body.IsEmpty; messages++)
        {
            var newline = body.IndexOf((byte)'\n');
            var end = newline < 0 ? body.Length : newline + 1;
            sink(body[..end]);
            body = body[end..];
        }
        using var ack = new HttpRequestMessage(HttpMethod.Post, _ackUri)
        {
            Content = new ByteArrayContent(JsonSerializer.SerializeToUtf8Bytes(new AckRequest(token), BenchJsonContext.Default.AckRequest)),
        };
        ack.Content.Headers.ContentType = OrleansBusPeer.JsonType;
        using var acked = _client.Send(ack);
        if (acked.StatusCode != HttpStatusCode.NoContent)
            throw new HttpRequestException($"ack {token}: HTTP {(int)acked.StatusCode} {acked.Content.ReadAsStringAsync().GetAwaiter().GetResult()}");
        return messages;
    }

    private int ReadAll(HttpResponseMessage response)
    {
        using var stream = response.Content.ReadAsStream();
        var length = 0;
        while (true)
        {
            if (length == _buffer.Length)
                Array.Resize(ref _buffer, _buffer.Length * 2);
            var read = stream.Read(_buffer, length, _buffer.Length - length);
            if (read == 0)
                return length;
            length += read;
        }
    }

    public void Dispose() => _client.Dispose();
}
