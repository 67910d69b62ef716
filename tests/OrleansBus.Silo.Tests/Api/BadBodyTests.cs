using System.Net;
using OrleansBus.Contracts;
using static OrleansBus.Silo.Tests.Api.SiloHttp;

namespace OrleansBus.Silo.Tests.Api;

/// <summary>
/// Produce requests the silo must refuse whole: each answers its problem+json code and leaves no trace —
/// no category, no folder, no file, no byte in an existing chunk (the next accepted batch lands exactly
/// where the last accepted one ended).
/// </summary>
public sealed class BadBodyTests(SiloApiFactory silo) : IClassFixture<SiloApiFactory>
{
    private readonly HttpClient _client = silo.CreateClient();

    public static TheoryData<string, bool> Cases()
    {
        var data = new TheoryData<string, bool>();
        foreach (var name in new[]
                 {
                     "message-over-limit", "message-over-limit-chunked", "message-over-limit-first", "request-over-limit",
                     "request-over-limit-by-one-byte", "request-over-limit-chunked", "missing-trailing-newline",
                     "single-message-without-newline", "empty-body", "empty-body-chunked", "durability-bogus",
                     "durability-upper-case",
                 })
        {
            data.Add(name, false);
            data.Add(name, true);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Refused_produce_answers_its_code_and_writes_nothing(string kind, bool categoryExists)
    {
        var category = NewCategory("bad");
        var seed = "seed\n"u8.ToArray();
        ProduceResult? seeded = null;
        if (categoryExists)
            seeded = await ProduceAsync(_client, category, seed);
        var (request, status, code) = Build(kind, category);
        var treeBefore = DataDirSnapshot.Take(silo.Root);
        var categoriesBefore = await ListCategoriesAsync(_client);
        var chunksBefore = categoryExists ? await ListChunksAsync(_client, category) : null;

        using var response = await _client.SendAsync(request);

        var problem = await AssertProblemAsync(response, status, code);
        if (code == BusErrorCodes.MessageTooLarge)
            Assert.Equal(BusLimits.DefaultMaxMessageBytes, problem.GetProperty("limit").GetInt32());
        if (code == BusErrorCodes.RequestTooLarge)
            Assert.Equal(BusLimits.DefaultMaxRequestBytes, problem.GetProperty("limit").GetInt32());
        DataDirSnapshot.AssertUnchanged(treeBefore, DataDirSnapshot.Take(silo.Root), $"{kind} was refused");
        Assert.Equal(categoriesBefore, await ListCategoriesAsync(_client));
        if (!categoryExists)
        {
            Assert.DoesNotContain(await ListCategoriesAsync(_client), c => c.Name == category);
            Assert.False(Directory.Exists(Path.Combine(silo.CategoriesDir, category)), $"A folder was created for {category} though {kind} was refused.");
            return;
        }
        Assert.Equal(chunksBefore, await ListChunksAsync(_client, category));
        Assert.Equal(seed, (await ReadAsync(_client, category, seeded!.Chunk, offset: 0)).Bytes);
        var next = await ProduceAsync(_client, category, "after\n");
        Assert.Equal((seeded.Chunk, (long)seed.Length), (next.Chunk, next.Offset));
    }

    [Fact]
    public async Task Message_over_limit_names_the_message_number_and_its_size()
    {
        var category = NewCategory("msgnum");
        using var request = new HttpRequestMessage(HttpMethod.Post, RawUri(_client, $"/v1/categories/{category}/messages"))
        {
            Content = new ByteArrayContent([.. "one\ntwo\n"u8, .. Lines(1, BusLimits.DefaultMaxMessageBytes + 1)]),
        };

        using var response = await _client.SendAsync(request);

        var problem = await AssertProblemAsync(response, HttpStatusCode.RequestEntityTooLarge, BusErrorCodes.MessageTooLarge);
        Assert.Contains("Message 3", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.True(problem.GetProperty("value").GetInt64() > BusLimits.DefaultMaxMessageBytes, $"value should be the failing size, got {problem}");
    }

    [Fact]
    public async Task Missing_trailing_newline_names_the_unterminated_message()
    {
        var category = NewCategory("msgnl");

        using var response = await PostRawAsync(_client, category, "a\nb\nc"u8.ToArray());

        var problem = await AssertProblemAsync(response, HttpStatusCode.BadRequest, BusErrorCodes.MissingTrailingNewline);
        Assert.Equal(3, problem.GetProperty("value").GetInt32());
    }

    [Fact]
    public async Task Refused_produce_drains_the_body_and_keeps_the_connection_usable()
    {
        // A refusal that stops reading half-way must still leave the request body drainable: Kestrel drains
        // it after the reply so the keep-alive connection serves the next request. If the body reader is
        // left mid-read, the drain fails and Kestrel drops the connection without "Connection: close", so a
        // client reusing it sees a reset (or a broken pipe while still sending) instead of the 413.
        var connections = 0;
        using var handler = new SocketsHttpHandler
        {
            MaxConnectionsPerServer = 1,
            ConnectCallback = async (context, cancellationToken) =>
            {
                Interlocked.Increment(ref connections);
                var socket = new System.Net.Sockets.Socket(System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp) { NoDelay = true };
                await socket.ConnectAsync(context.DnsEndPoint, cancellationToken);
                return new System.Net.Sockets.NetworkStream(socket, ownsSocket: true);
            },
        };
        using var client = new HttpClient(handler) { BaseAddress = _client.BaseAddress };
        var category = NewCategory("keepalive");
        // 2 MiB of valid messages after the oversized one: more than Kestrel buffers (1 MiB), so the refusal
        // happens with body bytes still unread and Kestrel has to drain them.
        byte[] body = [.. "ok\n"u8, .. Lines(1, BusLimits.DefaultMaxMessageBytes + 1), .. Lines(2048, 1024)];

        for (var round = 0; round < 3; round++)
        {
            using var refused = await PostRawAsync(client, category, body);
            await AssertProblemAsync(refused, HttpStatusCode.RequestEntityTooLarge, BusErrorCodes.MessageTooLarge);
            await ProduceAsync(client, category, "fine\n");
        }

        Assert.True(connections == 1, $"Six requests needed {connections} connections: the silo dropped the connection after refusing a body it had not finished reading.");
    }

    private (HttpRequestMessage Request, HttpStatusCode Status, string Code) Build(string kind, string category)
    {
        var query = kind switch
        {
            "durability-bogus" => "?durability=bogus",
            "durability-upper-case" => "?durability=FSYNC",
            _ => "",
        };
        HttpContent content = kind switch
        {
            // 4 MiB + 1 bytes including the newline, after a valid message, in a body far under 16 MiB.
            "message-over-limit" => new ByteArrayContent([.. "ok\n"u8, .. Lines(1, BusLimits.DefaultMaxMessageBytes + 1)]),
            "message-over-limit-first" => new ByteArrayContent(Lines(1, BusLimits.DefaultMaxMessageBytes + 1)),
            "message-over-limit-chunked" => new UnknownLengthContent([.. "ok\n"u8, .. Lines(1, BusLimits.DefaultMaxMessageBytes + 1)]),
            // Whole 1 KiB messages: the size is the only thing wrong.
            "request-over-limit" => new ByteArrayContent(Lines((16 * 1024) + 1, 1024)),
            "request-over-limit-by-one-byte" => new ByteArrayContent([.. Lines((16 * 1024) - 1, 1024), .. Lines(1, 1025)]),
            "request-over-limit-chunked" => new UnknownLengthContent(Lines((16 * 1024) + 1, 1024)),
            "missing-trailing-newline" => new ByteArrayContent("one\ntwo"u8.ToArray()),
            "single-message-without-newline" => new ByteArrayContent("lonely"u8.ToArray()),
            "empty-body" => new ByteArrayContent([]),
            "empty-body-chunked" => new UnknownLengthContent([]),
            _ => new ByteArrayContent("fine\n"u8.ToArray()),
        };
        var (status, code) = kind switch
        {
            _ when kind.StartsWith("message-over-limit", StringComparison.Ordinal) => (HttpStatusCode.RequestEntityTooLarge, BusErrorCodes.MessageTooLarge),
            _ when kind.StartsWith("request-over-limit", StringComparison.Ordinal) => (HttpStatusCode.RequestEntityTooLarge, BusErrorCodes.RequestTooLarge),
            "missing-trailing-newline" or "single-message-without-newline" => (HttpStatusCode.BadRequest, BusErrorCodes.MissingTrailingNewline),
            "empty-body" or "empty-body-chunked" => (HttpStatusCode.BadRequest, BusErrorCodes.EmptyBody),
            _ when kind.StartsWith("durability", StringComparison.Ordinal) => (HttpStatusCode.BadRequest, BusErrorCodes.InvalidArgument),
            _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "Unknown case."),
        };
        var request = new HttpRequestMessage(HttpMethod.Post, RawUri(_client, $"/v1/categories/{category}/messages{query}")) { Content = content };
        if (content is UnknownLengthContent)
            request.Headers.TransferEncodingChunked = true;
        return (request, status, code);
    }

    /// <summary>A body of unknown length: sent with <c>Transfer-Encoding: chunked</c>, in 64 KiB writes.</summary>
    private sealed class UnknownLengthContent(byte[] body) : HttpContent
    {
        protected override async Task SerializeToStreamAsync(Stream stream, System.Net.TransportContext? context)
        {
            for (var offset = 0; offset < body.Length; offset += 64 * 1024)
                await stream.WriteAsync(body.AsMemory(offset, Math.Min(64 * 1024, body.Length - offset)));
        }

        protected override bool TryComputeLength(out long length)
        {
            length = 0;
            return false;
        }
    }
}
