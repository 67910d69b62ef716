using System.Net;
using OrleansBus.Contracts;
using OrleansBus.Silo.Tests.Api;
using static OrleansBus.Silo.Tests.Chukcha.ChukchaHttp;

namespace OrleansBus.Silo.Tests.Chukcha;

/// <summary><c>/read</c>: raw bytes cut to the last newline, an empty reply at the end, 404 for what is not here.</summary>
public sealed class ChukchaReadTests(SiloApiFactory silo) : IClassFixture<SiloApiFactory>
{
    private readonly HttpClient _client = silo.CreateClient();

    [Fact]
    public async Task Read_cuts_to_the_last_newline_and_returns_a_message_longer_than_max_size_whole()
    {
        var category = SiloHttp.NewCategory("rd-cut");
        var chunk = await WriteAsync(_client, category, "aa\nbbbbbbbbbbbbbbbbbbbb\ncc\n"u8.ToArray());

        var first = await ReadAsync(_client, category, chunk, 0, maxSize: 5);
        var second = await ReadAsync(_client, category, chunk, 3, maxSize: 5);
        var rest = await ReadAsync(_client, category, chunk, 24, maxSize: 100);

        Assert.Equal((HttpStatusCode.OK, "aa\n"), (first.Status, System.Text.Encoding.ASCII.GetString(first.Bytes)));
        Assert.Equal("bbbbbbbbbbbbbbbbbbbb\n", System.Text.Encoding.ASCII.GetString(second.Bytes));
        Assert.Equal("cc\n", System.Text.Encoding.ASCII.GetString(rest.Bytes));
    }

    [Fact]
    public async Task Read_at_the_end_of_a_chunk_is_an_empty_200_and_beyond_the_end_416()
    {
        var category = SiloHttp.NewCategory("rd-end");
        var chunk = await WriteAsync(_client, category, "one\ntwo\n"u8.ToArray());

        var end = await ReadAsync(_client, category, chunk, 8, maxSize: 100);
        using var beyond = await GetAsync(_client, "/read" + Query(("category", category), ("chunk", chunk), ("off", "9"), ("max_size", "100")));

        Assert.Equal((HttpStatusCode.OK, 0), (end.Status, end.Bytes.Length));
        await SiloHttp.AssertProblemAsync(beyond, HttpStatusCode.RequestedRangeNotSatisfiable, BusErrorCodes.OffsetOutOfRange);
    }

    [Fact]
    public async Task Read_of_a_missing_chunk_or_category_is_404_which_chukchas_client_takes_as_not_here_yet()
    {
        var category = SiloHttp.NewCategory("rd-missing");
        var chunk = await WriteAsync(_client, category, "x\n"u8.ToArray());
        var never = SiloHttp.NewCategory("rd-never");

        using var missingChunk = await GetAsync(_client, "/read" + Query(("category", category), ("chunk", "silo1-chunk999999999"), ("off", "0"), ("max_size", "100")));
        using var missingCategory = await GetAsync(_client, "/read" + Query(("category", never), ("chunk", chunk), ("off", "0"), ("max_size", "100")));

        await SiloHttp.AssertProblemAsync(missingChunk, HttpStatusCode.NotFound, BusErrorCodes.ChunkNotFound);
        await SiloHttp.AssertProblemAsync(missingCategory, HttpStatusCode.NotFound, BusErrorCodes.CategoryNotFound);
        Assert.DoesNotContain(never, await ListCategoriesAsync(_client));
    }

    [Theory]
    [InlineData("&off=0", "max_size")]
    [InlineData("&max_size=100", "off")]
    [InlineData("&off=x&max_size=100", "off")]
    [InlineData("&off=-1&max_size=100", "off")]
    [InlineData("&off=0&max_size=0", "max_size")]
    [InlineData("&off=0&max_size=16777217", "max_size")]
    public async Task Read_refuses_a_missing_or_bad_off_or_max_size_with_400(string query, string parameter)
    {
        var category = SiloHttp.NewCategory("rd-params");
        var chunk = await WriteAsync(_client, category, "x\n"u8.ToArray());

        using var response = await GetAsync(_client, $"/read?category={category}&chunk={chunk}{query}");

        var problem = await SiloHttp.AssertProblemAsync(response, HttpStatusCode.BadRequest, BusErrorCodes.InvalidArgument);
        Assert.StartsWith(parameter + "=", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Read_without_a_chunk_is_400_and_with_a_malformed_one_too()
    {
        var category = SiloHttp.NewCategory("rd-chunk");
        await WriteAsync(_client, category, "x\n"u8.ToArray());

        using var none = await GetAsync(_client, $"/read?category={category}&off=0&max_size=10");
        using var malformed = await GetAsync(_client, $"/read?category={category}&chunk=..%2Fmetadata.db&off=0&max_size=10");

        await SiloHttp.AssertProblemAsync(none, HttpStatusCode.BadRequest, BusErrorCodes.InvalidArgument);
        await SiloHttp.AssertProblemAsync(malformed, HttpStatusCode.BadRequest, BusErrorCodes.InvalidChunkName);
    }

    [Fact]
    public async Task Read_takes_the_maxSize_spelling_of_early_chukcha_clients()
    {
        var category = SiloHttp.NewCategory("rd-early");
        var chunk = await WriteAsync(_client, category, "first\nsecond\n"u8.ToArray());

        using var response = await GetAsync(_client, $"/read?off=0&maxSize=8&chunk={chunk}&category={category}");

        await SiloHttp.AssertStatusAsync(response, HttpStatusCode.OK);
        Assert.Equal("first\n", await response.Content.ReadAsStringAsync());
    }
}
