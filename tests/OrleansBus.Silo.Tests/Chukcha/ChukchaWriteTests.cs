using System.Net;
using System.Text.Json;
using OrleansBus.Contracts;
using OrleansBus.Silo.Api;
using OrleansBus.Silo.Tests.Api;
using static OrleansBus.Silo.Tests.Chukcha.ChukchaHttp;

namespace OrleansBus.Silo.Tests.Chukcha;

/// <summary><c>/write</c>, <c>/listCategories</c>, <c>/listChunks</c> of unknown categories, and bad names everywhere.</summary>
public sealed class ChukchaWriteTests(SiloApiFactory silo) : IClassFixture<SiloApiFactory>
{
    private readonly HttpClient _client = silo.CreateClient();

    [Fact]
    public async Task Write_appends_the_body_as_produce_does_and_answers_200_with_an_empty_body()
    {
        var category = SiloHttp.NewCategory("wr");
        var chunk = await WriteAsync(_client, category, "a\nbb\n"u8.ToArray());
        await WriteAsync(_client, category, "ccc\n"u8.ToArray());

        var v1 = Assert.Single(await SiloHttp.ListChunksAsync(_client, category));
        Assert.Equal(new ChunkInfo(chunk, "silo1", "active", 9, 3), v1);
        Assert.Equal("a\nbb\nccc\n"u8.ToArray(), (await SiloHttp.ReadAsync(_client, category, chunk, 0)).Bytes);
        Assert.Equal([new ListedChunk(chunk, false, 9)], await ListChunksAsync(_client, category));
    }

    public static TheoryData<string> BadNames() => new()
    {
        "?category=",
        "",
        "?category=UPPER",
        "?category=a%2Fb",
        "?category=a/b",
        "?category=..",
        "?category=%2E",
        "?category=a%00b",
        "?category=-lead",
        "?category=" + new string('a', 129),
    };

    [Theory]
    [MemberData(nameof(BadNames))]
    public async Task Write_refuses_a_bad_category_name_with_400_and_creates_nothing(string query)
    {
        var before = DataDirSnapshot.Take(silo.Root);
        var categories = await ListCategoriesAsync(_client);

        using var response = await WriteRawAsync(_client, query, "m\n"u8.ToArray());

        await SiloHttp.AssertProblemAsync(response, HttpStatusCode.BadRequest, BusErrorCodes.InvalidCategoryName);
        DataDirSnapshot.AssertUnchanged(before, DataDirSnapshot.Take(silo.Root), $"POST /write{query}");
        Assert.Equal(categories, await ListCategoriesAsync(_client));
    }

    [Theory]
    [InlineData("/read", "&chunk=silo1-chunk000000000&off=0&max_size=10")]
    [InlineData("/ack", "&chunk=silo1-chunk000000000&size=10")]
    [InlineData("/listChunks", "")]
    public async Task Read_ack_and_listChunks_refuse_a_bad_category_name_with_400_and_create_nothing(string path, string rest)
    {
        var before = DataDirSnapshot.Take(silo.Root);

        foreach (var name in new[] { "", "UPPER", "a%2Fb", "..", "a%00b" })
        {
            using var response = await GetAsync(_client, $"{path}?category={name}{rest}");
            await SiloHttp.AssertProblemAsync(response, HttpStatusCode.BadRequest, BusErrorCodes.InvalidCategoryName);
        }

        DataDirSnapshot.AssertUnchanged(before, DataDirSnapshot.Take(silo.Root), path + " with bad names");
    }

    [Theory]
    [InlineData("", BusErrorCodes.EmptyBody)]
    [InlineData("no newline", BusErrorCodes.MissingTrailingNewline)]
    [InlineData("ok\nthen no newline", BusErrorCodes.MissingTrailingNewline)]
    public async Task Write_refuses_what_produce_refuses_and_leaves_no_trace(string body, string code)
    {
        var existing = SiloHttp.NewCategory("wr-bad");
        await WriteAsync(_client, existing, "kept\n"u8.ToArray());
        var fresh = SiloHttp.NewCategory("wr-new");
        var before = DataDirSnapshot.Take(silo.Root);

        using var toExisting = await WriteRawAsync(_client, Query(("category", existing)), System.Text.Encoding.UTF8.GetBytes(body));
        using var toFresh = await WriteRawAsync(_client, Query(("category", fresh)), System.Text.Encoding.UTF8.GetBytes(body));

        await SiloHttp.AssertProblemAsync(toExisting, HttpStatusCode.BadRequest, code);
        await SiloHttp.AssertProblemAsync(toFresh, HttpStatusCode.BadRequest, code);
        DataDirSnapshot.AssertUnchanged(before, DataDirSnapshot.Take(silo.Root), "refused writes");
        Assert.DoesNotContain(fresh, await ListCategoriesAsync(_client));
    }

    [Fact]
    public async Task Write_with_min_sync_replicas_this_silo_cannot_meet_is_refused_503_before_anything_is_written()
    {
        var category = SiloHttp.NewCategory("wr-repl");
        await WriteAsync(_client, category, "kept\n"u8.ToArray());
        var before = DataDirSnapshot.Take(silo.Root);

        using var one = await WriteRawAsync(_client, Query(("category", category), ("min_sync_replicas", "1")), "lost\n"u8.ToArray());
        using var bad = await WriteRawAsync(_client, Query(("category", category), ("min_sync_replicas", "x")), "lost\n"u8.ToArray());

        await SiloHttp.AssertProblemAsync(one, HttpStatusCode.ServiceUnavailable, BusErrorCodes.NotEnoughReplicas);
        await SiloHttp.AssertProblemAsync(bad, HttpStatusCode.BadRequest, BusErrorCodes.InvalidArgument);
        DataDirSnapshot.AssertUnchanged(before, DataDirSnapshot.Take(silo.Root), "writes asking for replicas");
        using var zero = await WriteRawAsync(_client, Query(("category", category), ("min_sync_replicas", "0")), "more\n"u8.ToArray());
        await SiloHttp.AssertStatusAsync(zero, HttpStatusCode.OK);
        Assert.Equal(10, Assert.Single(await ListChunksAsync(_client, category)).Size);
    }

    [Fact]
    public async Task ListCategories_is_a_json_array_of_every_category_name()
    {
        var first = SiloHttp.NewCategory("lc-a");
        var second = SiloHttp.NewCategory("lc-b");
        await WriteAsync(_client, first, "1\n"u8.ToArray());
        await SiloHttp.PutCategoryAsync(_client, second, """{"maxChunkBytes":2048}""");

        using var response = await GetAsync(_client, "/listCategories");
        await SiloHttp.AssertStatusAsync(response, HttpStatusCode.OK);
        using var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync());

        Assert.Equal(JsonValueKind.Array, document.RootElement.ValueKind);
        var names = document.RootElement.EnumerateArray().Select(e => e.GetString()).ToArray();
        Assert.Contains(first, names);
        Assert.Contains(second, names);
        Assert.Equal((await SiloHttp.ListCategoriesAsync(_client)).Select(c => c.Name), names);
    }

    [Fact]
    public async Task ListChunks_of_a_category_that_does_not_exist_is_an_empty_array_and_creates_nothing()
    {
        var never = SiloHttp.NewCategory("lk-never");
        var before = DataDirSnapshot.Take(silo.Root);

        using var response = await GetAsync(_client, "/listChunks" + Query(("category", never)));

        await SiloHttp.AssertStatusAsync(response, HttpStatusCode.OK);
        Assert.Equal("[]", await response.Content.ReadAsStringAsync());
        DataDirSnapshot.AssertUnchanged(before, DataDirSnapshot.Take(silo.Root), "listing a category that does not exist");
        Assert.DoesNotContain(never, await ListCategoriesAsync(_client));
    }
}
