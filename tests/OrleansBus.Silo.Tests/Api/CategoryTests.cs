using System.Net;
using System.Text;
using OrleansBus.Contracts;
using static OrleansBus.Silo.Tests.Api.SiloHttp;

namespace OrleansBus.Silo.Tests.Api;

/// <summary><c>GET /v1/categories</c>, <c>GET/PUT /v1/categories/{c}</c>, <c>GET /v1/categories/{c}/chunks</c> on a category without data.</summary>
public sealed class CategoryTests(SiloApiFactory silo) : IClassFixture<SiloApiFactory>
{
    private static readonly long DefaultMaxChunkAgeMs = (long)BusLimits.DefaultMaxChunkAge.TotalMilliseconds;

    private readonly HttpClient _client = silo.CreateClient();

    [Fact]
    public async Task List_shows_categories_created_by_produce_and_by_put_in_name_order()
    {
        var suffix = Guid.NewGuid().ToString("N")[..8];
        var byProduce = $"list-b-{suffix}";
        var byPut = $"list-a-{suffix}";

        await ProduceAsync(_client, byProduce, "m\n");
        await PutCategoryAsync(_client, byPut, """{"maxChunkBytes":4096}""");
        var names = (await ListCategoriesAsync(_client)).Select(c => c.Name).ToArray();

        Assert.Contains(byProduce, names);
        Assert.Contains(byPut, names);
        Assert.Equal(names.Order(StringComparer.Ordinal), names);
    }

    [Fact]
    public async Task List_returns_each_categorys_settings()
    {
        var category = NewCategory("listset");
        await PutCategoryAsync(_client, category, """{"maxChunkBytes":2048,"maxChunkAgeMs":1500,"defaultDurability":"fsync"}""");

        var listed = Assert.Single(await ListCategoriesAsync(_client), c => c.Name == category);

        Assert.Equal(new CategoryInfo(category, 2048, 1500, "fsync"), listed);
    }

    [Fact]
    public async Task Get_of_an_unknown_category_is_404_category_not_found()
    {
        using var response = await _client.GetAsync(RawUri(_client, "/v1/categories/never-created"));

        await AssertProblemAsync(response, HttpStatusCode.NotFound, BusErrorCodes.CategoryNotFound);
    }

    [Fact]
    public async Task Chunk_list_of_an_unknown_category_is_404_category_not_found()
    {
        using var response = await _client.GetAsync(RawUri(_client, "/v1/categories/never-created/chunks"));

        await AssertProblemAsync(response, HttpStatusCode.NotFound, BusErrorCodes.CategoryNotFound);
    }

    [Fact]
    public async Task Put_creates_a_category_with_the_given_settings_and_no_chunks()
    {
        var category = NewCategory("put");

        var answered = await PutCategoryAsync(_client, category, """{"maxChunkBytes":1048576,"maxChunkAgeMs":60000,"defaultDurability":"fsync"}""");

        var expected = new CategoryInfo(category, 1048576, 60000, "fsync");
        Assert.Equal(expected, answered);
        Assert.Equal(expected, await GetCategoryAsync(_client, category));
        Assert.Empty(await ListChunksAsync(_client, category));
    }

    [Fact]
    public async Task Put_accepts_the_smallest_allowed_chunk_size_and_age()
    {
        var category = NewCategory("minimum");

        var answered = await PutCategoryAsync(_client, category, """{"maxChunkBytes":1024,"maxChunkAgeMs":100}""");

        Assert.Equal(new CategoryInfo(category, 1024, 100, DurabilityNames.PageCache), answered);
    }

    [Fact]
    public async Task Put_with_an_empty_object_creates_the_category_with_the_silo_defaults()
    {
        var category = NewCategory("empty");

        var answered = await PutCategoryAsync(_client, category, "{}");

        Assert.Equal(new CategoryInfo(category, BusLimits.DefaultMaxChunkBytes, DefaultMaxChunkAgeMs, DurabilityNames.PageCache), answered);
    }

    [Fact]
    public async Task Put_without_a_body_creates_the_category_with_the_silo_defaults()
    {
        var category = NewCategory("nobody");

        using var response = await _client.PutAsync(RawUri(_client, $"/v1/categories/{category}"), new ByteArrayContent([]));

        await AssertStatusAsync(response, HttpStatusCode.OK);
        Assert.Equal(new CategoryInfo(category, BusLimits.DefaultMaxChunkBytes, DefaultMaxChunkAgeMs, DurabilityNames.PageCache), await GetCategoryAsync(_client, category));
    }

    [Fact]
    public async Task Put_with_a_partial_body_changes_only_the_fields_it_names()
    {
        var category = NewCategory("partial");
        await PutCategoryAsync(_client, category, """{"maxChunkBytes":8192,"maxChunkAgeMs":3000,"defaultDurability":"fsync"}""");

        var afterAge = await PutCategoryAsync(_client, category, """{"maxChunkAgeMs":4000}""");
        var afterSize = await PutCategoryAsync(_client, category, """{"maxChunkBytes":16384}""");
        var afterDurability = await PutCategoryAsync(_client, category, """{"defaultDurability":"page-cache"}""");

        Assert.Equal(new CategoryInfo(category, 8192, 4000, "fsync"), afterAge);
        Assert.Equal(new CategoryInfo(category, 16384, 4000, "fsync"), afterSize);
        Assert.Equal(new CategoryInfo(category, 16384, 4000, "page-cache"), afterDurability);
        Assert.Equal(afterDurability, await GetCategoryAsync(_client, category));
    }

    [Fact]
    public async Task Put_on_a_category_with_data_keeps_its_chunks()
    {
        var category = NewCategory("keepdata");
        var produced = await ProduceAsync(_client, category, "a\nb\n");

        await PutCategoryAsync(_client, category, """{"maxChunkAgeMs":5000}""");

        var chunk = Assert.Single(await ListChunksAsync(_client, category));
        Assert.Equal((produced.Chunk, 4L, 2L), (chunk.Name, chunk.Size, chunk.Messages));
    }

    public static TheoryData<string> BadSettings() => new()
    {
        """{"maxChunkBytes":0}""",
        """{"maxChunkBytes":1023}""",
        """{"maxChunkBytes":-1}""",
        """{"maxChunkAgeMs":0}""",
        """{"maxChunkAgeMs":99}""",
        """{"maxChunkAgeMs":-5}""",
        """{"defaultDurability":"bogus"}""",
        """{"defaultDurability":"FSYNC"}""",
        """{"defaultDurability":""}""",
        """{"maxChunkBytes":"big"}""",
        """{"maxChunkBytes":1.5}""",
        """{"maxChunkBytes":1e40}""",
        """{"maxChunkBytes":4096,"defaultDurability":"bogus"}""",
        """[]""",
        """{""",
        """not json""",
    };

    [Theory]
    [MemberData(nameof(BadSettings))]
    public async Task Put_with_a_bad_setting_is_400_invalid_argument_and_creates_nothing(string json)
    {
        var category = NewCategory("badput");
        var before = DataDirSnapshot.Take(silo.Root);

        using var response = await PutCategoryRawAsync(_client, category, json);

        await AssertProblemAsync(response, HttpStatusCode.BadRequest, BusErrorCodes.InvalidArgument);
        Assert.DoesNotContain(await ListCategoriesAsync(_client), c => c.Name == category);
        using var get = await _client.GetAsync(RawUri(_client, $"/v1/categories/{category}"));
        await AssertProblemAsync(get, HttpStatusCode.NotFound, BusErrorCodes.CategoryNotFound);
        DataDirSnapshot.AssertUnchanged(before, DataDirSnapshot.Take(silo.Root), $"PUT {json} was refused");
    }

    [Theory]
    [MemberData(nameof(BadSettings))]
    public async Task Put_with_a_bad_setting_leaves_an_existing_category_unchanged(string json)
    {
        var category = NewCategory("badupd");
        var original = await PutCategoryAsync(_client, category, """{"maxChunkBytes":4096,"maxChunkAgeMs":2000,"defaultDurability":"fsync"}""");

        using var response = await PutCategoryRawAsync(_client, category, json);

        await AssertProblemAsync(response, HttpStatusCode.BadRequest, BusErrorCodes.InvalidArgument);
        Assert.Equal(original, await GetCategoryAsync(_client, category));
    }

    [Fact]
    public async Task Put_with_a_non_json_content_type_is_400_invalid_argument_and_creates_nothing()
    {
        var category = NewCategory("plain");

        using var response = await _client.PutAsync(RawUri(_client, $"/v1/categories/{category}"),
            new StringContent("""{"maxChunkBytes":4096}""", Encoding.UTF8, "text/plain"));

        await AssertProblemAsync(response, HttpStatusCode.BadRequest, BusErrorCodes.InvalidArgument);
        Assert.DoesNotContain(await ListCategoriesAsync(_client), c => c.Name == category);
        Assert.False(Directory.Exists(Path.Combine(silo.CategoriesDir, category)), $"A folder was created for {category} though the PUT was refused.");
    }
}
