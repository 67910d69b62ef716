using System.Text.Json;
using OrleansBus.Contracts;
using static OrleansBus.Silo.Tests.Api.SiloHttp;

namespace OrleansBus.Silo.Tests.Api;

/// <summary><c>GET /v1/categories/{c}/chunks</c>: names, owner, state, size and message count, oldest first; rotation by size.</summary>
public sealed class ChunkListTests(SiloApiFactory silo) : IClassFixture<SiloApiFactory>
{
    private readonly HttpClient _client = silo.CreateClient();

    [Fact]
    public async Task Chunk_list_answers_with_exactly_the_documented_json_fields()
    {
        var category = NewCategory("fields");
        await ProduceAsync(_client, category, "m\n");

        using var response = await _client.GetAsync(RawUri(_client, $"/v1/categories/{category}/chunks"));

        await AssertStatusAsync(response, System.Net.HttpStatusCode.OK);
        using var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var chunk = Assert.Single(document.RootElement.EnumerateArray().ToArray());
        var names = chunk.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal).ToArray();
        Assert.Equal(["messages", "name", "owner", "size", "state"], names);
    }

    [Fact]
    public async Task Chunk_list_shows_the_active_chunk_with_the_size_and_messages_produced()
    {
        var category = NewCategory("active");
        var first = await ProduceAsync(_client, category, "a\nbb\n");
        await ProduceAsync(_client, category, "ccc\n");

        var chunk = Assert.Single(await ListChunksAsync(_client, category));

        Assert.Equal(new ChunkInfo(first.Chunk, "silo1", "active", 9, 3), chunk);
    }

    [Fact]
    public async Task Chunks_rotate_at_max_chunk_bytes_and_earlier_ones_become_sealed()
    {
        var category = NewCategory("rotate");
        await PutCategoryAsync(_client, category, """{"maxChunkBytes":1024}""");
        var batch = Lines(6, 100); // 600 bytes: two never fit in 1024

        var results = new List<ProduceResult>();
        for (var i = 0; i < 4; i++)
            results.Add(await ProduceAsync(_client, category, batch));

        var names = results.Select(r => r.Chunk).ToArray();
        Assert.Equal(4, names.Distinct().Count());
        Assert.All(results, r => Assert.Equal((0L, 600L, 6), (r.Offset, r.Length, r.Messages)));
        var chunks = await Eventually.WaitForAsync(
            () => ListChunksAsync(_client, category),
            list => list.Length == 4 && list.Take(3).All(c => c.State is "sealed" or "archived"),
            list => $"the three rotated chunks of {category} never all became sealed: {Describe(list)}");
        Assert.Equal(names, chunks.Select(c => c.Name));
        Assert.All(chunks, c => Assert.Equal(("silo1", 600L, 6L), (c.Owner, c.Size, c.Messages)));
        Assert.Equal("active", chunks[^1].State);
    }

    [Fact]
    public async Task Chunk_list_is_oldest_first_by_sequence()
    {
        var category = NewCategory("order");
        await PutCategoryAsync(_client, category, """{"maxChunkBytes":1024}""");
        for (var i = 0; i < 12; i++)
            await ProduceAsync(_client, category, Lines(6, 100));

        var chunks = await ListChunksAsync(_client, category);

        var sequences = chunks.Select(c => long.Parse(c.Name[(c.Name.LastIndexOf("-chunk", StringComparison.Ordinal) + 6)..], System.Globalization.CultureInfo.InvariantCulture)).ToArray();
        Assert.Equal(12, sequences.Length);
        Assert.Equal(sequences.Order(), sequences);
        Assert.Equal(sequences.Length, sequences.Distinct().Count());
    }

    [Fact]
    public async Task A_batch_larger_than_max_chunk_bytes_lands_whole_in_a_chunk_of_its_own()
    {
        var category = NewCategory("bigbatch");
        await PutCategoryAsync(_client, category, """{"maxChunkBytes":1024}""");

        var small = await ProduceAsync(_client, category, Lines(1, 100));
        var big = await ProduceAsync(_client, category, Lines(20, 100));
        var after = await ProduceAsync(_client, category, Lines(1, 100));

        Assert.NotEqual(small.Chunk, big.Chunk);
        Assert.NotEqual(big.Chunk, after.Chunk);
        Assert.Equal((0L, 2000L, 20), (big.Offset, big.Length, big.Messages));
        Assert.Equal(0L, after.Offset);
        var chunks = await ListChunksAsync(_client, category);
        Assert.Equal([small.Chunk, big.Chunk, after.Chunk], chunks.Select(c => c.Name));
        Assert.Equal([100L, 2000L, 100L], chunks.Select(c => c.Size));
    }

    private static string Describe(ChunkInfo[] chunks) =>
        "[" + string.Join(", ", chunks.Select(c => $"{c.Name} {c.State} {c.Size}B/{c.Messages}")) + "]";
}
