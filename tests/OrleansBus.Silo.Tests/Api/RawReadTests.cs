using System.Net;
using System.Text;
using OrleansBus.Contracts;
using static OrleansBus.Silo.Tests.Api.SiloHttp;

namespace OrleansBus.Silo.Tests.Api;

/// <summary><c>GET /v1/categories/{c}/chunks/{chunk}?offset=&amp;max_bytes=</c>: whole messages, the next offset, and every refusal.</summary>
public sealed class RawReadTests(SiloApiFactory silo) : IClassFixture<SiloApiFactory>
{
    private readonly HttpClient _client = silo.CreateClient();

    [Fact]
    public async Task Read_without_parameters_returns_the_whole_chunk_as_octets_with_the_next_offset()
    {
        var category = NewCategory("whole");
        var produced = await ProduceAsync(_client, category, "alpha\nbeta\n");

        using var response = await ReadRawAsync(_client, category, produced.Chunk);

        await AssertStatusAsync(response, HttpStatusCode.OK);
        Assert.Equal("application/octet-stream", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("alpha\nbeta\n", await response.Content.ReadAsStringAsync());
        Assert.Equal(["11"], response.Headers.GetValues(BusHeaders.NextOffset));
    }

    [Fact]
    public async Task Read_cuts_the_reply_back_to_the_last_newline_within_max_bytes()
    {
        var category = NewCategory("cut");
        var produced = await ProduceAsync(_client, category, "aaaa\nbbbb\ncccc\n");

        var first = await ReadAsync(_client, category, produced.Chunk, offset: 0, maxBytes: 7);
        var second = await ReadAsync(_client, category, produced.Chunk, first.NextOffset, maxBytes: 10);

        Assert.Equal("aaaa\n", Encoding.ASCII.GetString(first.Bytes));
        Assert.Equal(5, first.NextOffset);
        Assert.Equal("bbbb\ncccc\n", Encoding.ASCII.GetString(second.Bytes));
        Assert.Equal(15, second.NextOffset);
    }

    [Fact]
    public async Task Reading_in_a_loop_with_small_max_bytes_reconstructs_the_exact_bytes_produced()
    {
        var category = NewCategory("loop");
        var random = new Random(1234);
        using var expected = new MemoryStream();
        string? chunk = null;
        for (var batch = 0; batch < 20; batch++)
        {
            using var body = new MemoryStream();
            var messages = random.Next(1, 8);
            for (var m = 0; m < messages; m++)
            {
                // 0..300 payload bytes of anything but a newline, so some messages exceed max_bytes below.
                var payload = new byte[random.Next(0, 300)];
                random.NextBytes(payload);
                for (var i = 0; i < payload.Length; i++)
                {
                    if (payload[i] == (byte)'\n')
                        payload[i] = (byte)'n';
                }
                body.Write(payload);
                body.WriteByte((byte)'\n');
            }
            var produced = await ProduceAsync(_client, category, body.ToArray());
            chunk ??= produced.Chunk;
            Assert.Equal(chunk, produced.Chunk);
            Assert.Equal(expected.Length, produced.Offset);
            expected.Write(body.ToArray());
        }

        var all = await ReadAllAsync(_client, category, chunk!, expected.Length, maxBytes: 64);

        Assert.Equal(expected.ToArray(), all);
    }

    [Fact]
    public async Task A_message_larger_than_max_bytes_is_returned_whole()
    {
        var category = NewCategory("large");
        var big = Lines(1, 1000, (byte)'b');
        var produced = await ProduceAsync(_client, category, [.. "s\n"u8, .. big, .. "t\n"u8]);

        var first = await ReadAsync(_client, category, produced.Chunk, offset: 0, maxBytes: 10);
        var second = await ReadAsync(_client, category, produced.Chunk, first.NextOffset, maxBytes: 10);
        var third = await ReadAsync(_client, category, produced.Chunk, second.NextOffset, maxBytes: 10);

        Assert.Equal("s\n"u8.ToArray(), first.Bytes);
        Assert.Equal(big, second.Bytes);
        Assert.Equal(1002, second.NextOffset);
        Assert.Equal("t\n"u8.ToArray(), third.Bytes);
        Assert.Equal(1004, third.NextOffset);
    }

    [Fact]
    public async Task A_message_larger_than_max_bytes_at_the_end_of_the_chunk_is_returned_whole()
    {
        var category = NewCategory("largeend");
        var big = Lines(1, 70_000, (byte)'e');
        var produced = await ProduceAsync(_client, category, big);

        var read = await ReadAsync(_client, category, produced.Chunk, offset: 0, maxBytes: 1);

        Assert.Equal(big, read.Bytes);
        Assert.Equal(70_000, read.NextOffset);
    }

    [Fact]
    public async Task Read_cuts_back_to_a_newline_far_before_the_max_bytes_limit()
    {
        // Messages of 70 000 bytes: the last newline before max_bytes lies more than 64 KiB back.
        var category = NewCategory("farcut");
        var first = Lines(1, 70_000, (byte)'1');
        var second = Lines(1, 70_000, (byte)'2');
        var third = Lines(1, 70_000, (byte)'3');
        var produced = await ProduceAsync(_client, category, [.. first, .. second, .. third]);

        var a = await ReadAsync(_client, category, produced.Chunk, offset: 0, maxBytes: 139_999);
        var b = await ReadAsync(_client, category, produced.Chunk, a.NextOffset, maxBytes: 140_000);
        var c = await ReadAsync(_client, category, produced.Chunk, b.NextOffset, maxBytes: 100_000);

        Assert.Equal(first, a.Bytes);
        Assert.Equal(70_000, a.NextOffset);
        Assert.Equal([.. second, .. third], b.Bytes);
        Assert.Equal(210_000, b.NextOffset);
        Assert.Empty(c.Bytes);
        Assert.Equal(210_000, c.NextOffset);
    }

    [Fact]
    public async Task Read_with_max_bytes_ending_exactly_on_a_message_boundary_returns_up_to_it()
    {
        var category = NewCategory("boundary");
        var produced = await ProduceAsync(_client, category, "aaaa\nbbbb\ncccc\n");

        var read = await ReadAsync(_client, category, produced.Chunk, offset: 0, maxBytes: 10);

        Assert.Equal("aaaa\nbbbb\n"u8.ToArray(), read.Bytes);
        Assert.Equal(10, read.NextOffset);
    }

    [Fact]
    public async Task Read_at_the_end_of_the_chunk_returns_nothing_and_the_same_offset()
    {
        var category = NewCategory("atend");
        var produced = await ProduceAsync(_client, category, "x\ny\n");

        var read = await ReadAsync(_client, category, produced.Chunk, offset: 4, maxBytes: 100);

        Assert.Empty(read.Bytes);
        Assert.Equal(4, read.NextOffset);
    }

    [Fact]
    public async Task Read_beyond_the_end_of_the_chunk_is_416_offset_out_of_range()
    {
        var category = NewCategory("beyond");
        var produced = await ProduceAsync(_client, category, "x\ny\n");

        using var response = await ReadRawAsync(_client, category, produced.Chunk, "?offset=5");

        await AssertProblemAsync(response, (HttpStatusCode)416, BusErrorCodes.OffsetOutOfRange);
    }

    [Fact]
    public async Task Read_of_an_unknown_well_formed_chunk_is_404_chunk_not_found()
    {
        var category = NewCategory("nochunk");
        await ProduceAsync(_client, category, "x\n");

        using var response = await ReadRawAsync(_client, category, "silo1-chunk000000999");

        await AssertProblemAsync(response, HttpStatusCode.NotFound, BusErrorCodes.ChunkNotFound);
    }

    [Fact]
    public async Task Read_in_an_unknown_category_is_404_category_not_found()
    {
        using var response = await ReadRawAsync(_client, "never-created", "silo1-chunk000000000");

        await AssertProblemAsync(response, HttpStatusCode.NotFound, BusErrorCodes.CategoryNotFound);
    }

    [Theory]
    [InlineData("nope")]
    [InlineData("silo1-chunk12")]
    [InlineData("silo1-chunk")]
    [InlineData("-chunk000000000")]
    [InlineData("SILO1-chunk000000000")]
    [InlineData("silo1-chunk000000000.idx")]
    [InlineData("silo1-chunk00000000x")]
    [InlineData("silo_1-chunk000000000")]
    [InlineData("..%2Fmetadata.db")]
    [InlineData("..%2F..%2Fdata%2Fmetadata.db")]
    [InlineData("silo1-chunk000000000%00")]
    [InlineData("silo1-chunk000000000%0A")]
    public async Task Read_of_a_malformed_chunk_name_is_400_invalid_chunk_name(string chunk)
    {
        var category = NewCategory("badchunk");
        await ProduceAsync(_client, category, "x\n");

        using var response = await ReadRawAsync(_client, category, chunk);

        if (chunk.Contains("%00", StringComparison.Ordinal))
        {
            // Kestrel refuses a target holding a NUL byte before any application code runs: a bare 400.
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            return;
        }
        await AssertProblemAsync(response, HttpStatusCode.BadRequest, BusErrorCodes.InvalidChunkName);
    }

    [Theory]
    [InlineData("?max_bytes=0")]
    [InlineData("?max_bytes=-1")]
    [InlineData("?max_bytes=abc")]
    [InlineData("?max_bytes=16777217")]
    [InlineData("?max_bytes=99999999999")]
    [InlineData("?max_bytes=1.5")]
    [InlineData("?max_bytes=%2B5")]
    [InlineData("?max_bytes=%205")]
    [InlineData("?offset=-1")]
    [InlineData("?offset=abc")]
    [InlineData("?offset=1e3")]
    [InlineData("?offset=99999999999999999999")]
    public async Task Read_with_a_bad_offset_or_max_bytes_is_400_invalid_argument(string query)
    {
        var category = NewCategory("badquery");
        var produced = await ProduceAsync(_client, category, "x\n");

        using var response = await ReadRawAsync(_client, category, produced.Chunk, query);

        await AssertProblemAsync(response, HttpStatusCode.BadRequest, BusErrorCodes.InvalidArgument);
    }

    [Fact]
    public async Task Read_accepts_max_bytes_of_exactly_the_read_limit()
    {
        var category = NewCategory("maxread");
        var produced = await ProduceAsync(_client, category, "x\n");

        var read = await ReadAsync(_client, category, produced.Chunk, offset: 0, maxBytes: BusLimits.DefaultMaxReadBytes);

        Assert.Equal("x\n"u8.ToArray(), read.Bytes);
    }

    [Fact]
    public async Task Read_of_a_sealed_chunk_returns_its_bytes()
    {
        var category = NewCategory("sealedread");
        await PutCategoryAsync(_client, category, """{"maxChunkBytes":1024}""");
        var first = await ProduceAsync(_client, category, Lines(6, 100, (byte)'1'));
        await ProduceAsync(_client, category, Lines(6, 100, (byte)'2'));
        await Eventually.WaitForAsync(
            () => ListChunksAsync(_client, category),
            list => list.Length == 2 && list[0].State is "sealed" or "archived",
            list => $"the first chunk of {category} never became sealed: {string.Join(", ", list.Select(c => c.Name + " " + c.State))}");

        var all = await ReadAllAsync(_client, category, first.Chunk, 600, maxBytes: 250);

        Assert.Equal(Lines(6, 100, (byte)'1'), all);
    }
}
