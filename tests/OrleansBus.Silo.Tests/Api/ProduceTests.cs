using System.Net;
using System.Text;
using System.Text.Json;
using OrleansBus.Contracts;
using static OrleansBus.Silo.Tests.Api.SiloHttp;

namespace OrleansBus.Silo.Tests.Api;

/// <summary><c>POST /v1/categories/{c}/messages</c>: where a batch lands and which guarantee it got.</summary>
public sealed class ProduceTests(SiloApiFactory silo) : IClassFixture<SiloApiFactory>
{
    private readonly HttpClient _client = silo.CreateClient();

    [Fact]
    public async Task Produce_answers_with_exactly_the_documented_json_fields()
    {
        var category = NewCategory("wire");

        using var response = await PostRawAsync(_client, category, Encoding.UTF8.GetBytes("one\n"));

        await AssertStatusAsync(response, HttpStatusCode.OK);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        using var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var names = document.RootElement.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal).ToArray();
        Assert.Equal(["category", "chunk", "durability", "length", "messages", "offset"], names);
    }

    [Fact]
    public async Task Produce_places_consecutive_batches_back_to_back_in_one_chunk_and_counts_messages()
    {
        var category = NewCategory("place");

        var first = await ProduceAsync(_client, category, "one\ntwo\n");
        var second = await ProduceAsync(_client, category, "three\n");
        var third = await ProduceAsync(_client, category, "4\n5\n6\n");

        Assert.Equal(category, first.Category);
        Assert.Matches("^silo1-chunk[0-9]{9}$", first.Chunk);
        Assert.Equal((0L, 8L, 2), (first.Offset, first.Length, first.Messages));
        Assert.Equal(first.Chunk, second.Chunk);
        Assert.Equal((8L, 6L, 1), (second.Offset, second.Length, second.Messages));
        Assert.Equal(first.Chunk, third.Chunk);
        Assert.Equal((14L, 6L, 3), (third.Offset, third.Length, third.Messages));
    }

    [Fact]
    public async Task Produce_counts_messages_with_arbitrary_bytes_and_carriage_returns()
    {
        var category = NewCategory("bytes");
        byte[] body = [0x00, 0xFF, (byte)'\r', (byte)'\n', (byte)'{', (byte)'}', (byte)'\n', (byte)'\n'];

        var result = await ProduceAsync(_client, category, body);

        // Three newlines, three messages: an empty line is a message too (opaque bytes, possibly none).
        Assert.Equal((0L, 8L, 3), (result.Offset, result.Length, result.Messages));
        var read = await ReadAsync(_client, category, result.Chunk, offset: 0);
        Assert.Equal(body, read.Bytes);
    }

    [Fact]
    public async Task Produce_acknowledges_page_cache_by_default()
    {
        var result = await ProduceAsync(_client, NewCategory("default"), "m\n");

        Assert.Equal(DurabilityNames.PageCache, result.Durability);
    }

    [Theory]
    [InlineData("fsync", "fsync")]
    [InlineData("page-cache", "page-cache")]
    public async Task Produce_echoes_the_durability_asked_for_in_the_query(string asked, string expected)
    {
        var result = await ProduceAsync(_client, NewCategory("durable"), "m\n", $"?durability={asked}");

        Assert.Equal(expected, result.Durability);
    }

    [Fact]
    public async Task Produce_uses_the_categorys_default_durability_when_the_query_names_none()
    {
        var category = NewCategory("catfsync");
        await PutCategoryAsync(_client, category, """{"defaultDurability":"fsync"}""");

        var implicitly = await ProduceAsync(_client, category, "m\n");
        var overridden = await ProduceAsync(_client, category, "m\n", "?durability=page-cache");

        Assert.Equal(DurabilityNames.Fsync, implicitly.Durability);
        Assert.Equal(DurabilityNames.PageCache, overridden.Durability);
    }

    [Fact]
    public async Task Produce_follows_a_default_durability_changed_after_the_category_exists()
    {
        var category = NewCategory("switch");
        var before = await ProduceAsync(_client, category, "m\n");

        await PutCategoryAsync(_client, category, """{"defaultDurability":"fsync"}""");
        var after = await ProduceAsync(_client, category, "m\n");

        Assert.Equal(DurabilityNames.PageCache, before.Durability);
        Assert.Equal(DurabilityNames.Fsync, after.Durability);
    }

    [Fact]
    public async Task Produce_creates_an_unknown_category_with_the_silo_defaults()
    {
        var category = NewCategory("created");

        await ProduceAsync(_client, category, "m\n");

        var settings = await GetCategoryAsync(_client, category);
        Assert.Equal(new CategoryInfo(category, BusLimits.DefaultMaxChunkBytes, (long)BusLimits.DefaultMaxChunkAge.TotalMilliseconds, DurabilityNames.PageCache), settings);
        Assert.Contains(await ListCategoriesAsync(_client), c => c.Name == category);
        Assert.True(Directory.Exists(Path.Combine(silo.CategoriesDir, category)), $"No folder for {category} under {silo.CategoriesDir}.");
    }

    [Fact]
    public async Task Produce_accepts_a_message_of_exactly_the_message_limit()
    {
        var category = NewCategory("atlimit");
        var body = Lines(1, BusLimits.DefaultMaxMessageBytes);

        var result = await ProduceAsync(_client, category, body);

        Assert.Equal((long)BusLimits.DefaultMaxMessageBytes, result.Length);
        Assert.Equal(1, result.Messages);
    }

    [Fact]
    public async Task Produce_accepts_a_body_of_exactly_the_request_limit()
    {
        var category = NewCategory("atreqlimit");
        var body = Lines(BusLimits.DefaultMaxRequestBytes / 1024, 1024);

        var result = await ProduceAsync(_client, category, body);

        Assert.Equal((long)BusLimits.DefaultMaxRequestBytes, result.Length);
        Assert.Equal(BusLimits.DefaultMaxRequestBytes / 1024, result.Messages);
    }
}
