using System.Net;
using System.Text;
using OrleansBus.Contracts;
using static OrleansBus.Silo.Tests.Api.SiloHttp;

namespace OrleansBus.Silo.Tests.Api;

/// <summary>
/// Category names that break <c>^[a-z0-9][a-z0-9._-]{0,127}$</c> (or are <c>.</c>/<c>..</c>), sent to every
/// endpoint that takes one. Paths go out exactly as written (<see cref="SiloHttp.RawUri"/>): HttpClient would
/// otherwise resolve <c>..</c> itself and the silo would never see it. Kestrel still resolves dot segments
/// (also <c>%2e%2e</c>) before routing, which is why the silo's fallback reads the raw target. Every refusal
/// must be 400 <c>invalid_category_name</c> as problem+json and leave the data directory untouched.
/// </summary>
public sealed class BadCategoryNameTests(SiloApiFactory silo) : IClassFixture<SiloApiFactory>
{
    /// <summary>Path segments as sent (percent-encoding included), and what the name is.</summary>
    public static readonly (string Segment, string Why)[] BadNames =
    [
        ("..", "dot-dot"),
        (".", "dot"),
        ("%2e%2e", "dot-dot percent-encoded"),
        ("%2E%2E", "dot-dot percent-encoded upper case"),
        (".%2e", "dot-dot half encoded"),
        ("%2e", "dot percent-encoded"),
        ("a%2Fb", "slash percent-encoded"),
        ("a/b", "slash as an extra path segment"),
        ("..%2F..%2Fescape", "traversal with encoded slashes"),
        ("a%5Cb", "backslash"),
        ("", "empty"),
        (new string('a', 300), "300 characters"),
        (new string('a', 129), "129 characters"),
        ("ABC", "upper case"),
        ("aBc", "mixed case"),
        ("a%00b", "NUL"),
        ("a%0Ab", "line feed"),
        ("a%1Fb", "unit separator"),
        ("a%7Fb", "DEL"),
        ("a%20b", "space"),
        ("-start", "leading dash"),
        (".hidden", "leading dot"),
        ("_under", "leading underscore"),
        ("caf%C3%A9", "non-ASCII letter"),
    ];

    public static readonly string[] Endpoints = ["produce", "list-chunks", "put-settings", "get-settings", "read-chunk", "delete"];

    private readonly HttpClient _client = silo.CreateClient();

    public static TheoryData<string, string> Cases()
    {
        var data = new TheoryData<string, string>();
        foreach (var (segment, _) in BadNames)
        {
            foreach (var endpoint in Endpoints)
            {
                // GET /v1/categories/ with an empty name is the category list itself, not a bad name.
                if (segment.Length == 0 && endpoint == "get-settings")
                    continue;
                data.Add(segment, endpoint);
            }
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Bad_category_name_is_400_invalid_category_name_and_writes_nothing(string segment, string endpoint)
    {
        await SeedAsync();
        var treeBefore = DataDirSnapshot.Take(silo.Root);
        var categoriesBefore = await ListCategoriesAsync(_client);
        var seededChunksBefore = await ListChunksAsync(_client, "seeded");

        using var response = await _client.SendAsync(Request(segment, endpoint));

        if (segment.Contains("%00", StringComparison.Ordinal))
        {
            // Kestrel refuses a request target holding a NUL byte while parsing it, before any middleware
            // or endpoint of the silo runs, with a bare 400 (no body): the silo cannot answer problem+json.
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        }
        else
        {
            await AssertProblemAsync(response, HttpStatusCode.BadRequest, BusErrorCodes.InvalidCategoryName);
        }
        Assert.Equal(categoriesBefore, await ListCategoriesAsync(_client));
        Assert.Equal(seededChunksBefore, await ListChunksAsync(_client, "seeded"));
        DataDirSnapshot.AssertUnchanged(treeBefore, DataDirSnapshot.Take(silo.Root), $"{endpoint} with category segment '{segment}' was refused");
    }

    [Fact]
    public async Task All_bad_names_on_all_endpoints_together_leave_no_new_entry_anywhere_in_the_data_dir()
    {
        await SeedAsync();
        var treeBefore = DataDirSnapshot.Take(silo.Root);
        var categoriesBefore = await ListCategoriesAsync(_client);
        var seededChunksBefore = await ListChunksAsync(_client, "seeded");
        var accepted = new StringBuilder();

        foreach (var row in Cases())
        {
            var (segment, endpoint) = ((string)row[0], (string)row[1]);
            using var response = await _client.SendAsync(Request(segment, endpoint));
            if (response.IsSuccessStatusCode && (endpoint == "produce" || endpoint == "put-settings"))
                accepted.Append($"\n  {endpoint} '{segment}' -> {(int)response.StatusCode}");
        }

        Assert.True(accepted.Length == 0, $"Writes with bad names were accepted:{accepted}");
        Assert.Equal(categoriesBefore, await ListCategoriesAsync(_client));
        Assert.Equal(seededChunksBefore, await ListChunksAsync(_client, "seeded"));
        DataDirSnapshot.AssertUnchanged(treeBefore, DataDirSnapshot.Take(silo.Root), "every bad name on every endpoint was sent");
        Assert.All(Directory.GetFileSystemEntries(silo.CategoriesDir), path => Assert.True(
            CategoryName.IsValid(Path.GetFileName(path)) && Directory.Exists(path), $"{path} is not a folder with a valid category name."));
    }

    [Theory]
    [InlineData("0")]
    [InlineData("a.b_c-d")]
    [InlineData("a..b")]
    [InlineData("z.")]
    [InlineData("x-dead-letter")]
    public async Task Names_at_the_edge_of_the_rule_are_accepted_as_one_folder_each(string category)
    {
        var produced = await ProduceAsync(_client, category, "m\n");

        Assert.Equal(category, produced.Category);
        Assert.Equal(category, (await GetCategoryAsync(_client, category)).Name);
        Assert.True(File.Exists(Path.Combine(silo.CategoriesDir, category, produced.Chunk)), $"No chunk file for {category} in {silo.CategoriesDir}.");
    }

    [Fact]
    public async Task A_name_of_exactly_128_characters_is_accepted()
    {
        var category = new string('b', CategoryName.MaxLength);

        var produced = await ProduceAsync(_client, category, "m\n");
        var settings = await PutCategoryAsync(_client, category, """{"maxChunkAgeMs":1000}""");

        Assert.Equal(category, produced.Category);
        Assert.Equal(category, settings.Name);
    }

    /// <summary>An existing category with data, so a bad request could also have grown someone else's chunk.</summary>
    private async Task SeedAsync()
    {
        if ((await ListCategoriesAsync(_client)).All(c => c.Name != "seeded"))
            await ProduceAsync(_client, "seeded", "seed\n");
    }

    private HttpRequestMessage Request(string segment, string endpoint) => endpoint switch
    {
        "produce" => new HttpRequestMessage(HttpMethod.Post, RawUri(_client, $"/v1/categories/{segment}/messages"))
        {
            Content = new ByteArrayContent("x\n"u8.ToArray()),
        },
        "list-chunks" => new HttpRequestMessage(HttpMethod.Get, RawUri(_client, $"/v1/categories/{segment}/chunks")),
        "put-settings" => new HttpRequestMessage(HttpMethod.Put, RawUri(_client, $"/v1/categories/{segment}"))
        {
            Content = new StringContent("""{"maxChunkBytes":4096}""", Encoding.UTF8, "application/json"),
        },
        "get-settings" => new HttpRequestMessage(HttpMethod.Get, RawUri(_client, $"/v1/categories/{segment}")),
        "delete" => new HttpRequestMessage(HttpMethod.Delete, RawUri(_client, $"/v1/categories/{segment}")),
        "read-chunk" => new HttpRequestMessage(HttpMethod.Get, RawUri(_client, $"/v1/categories/{segment}/chunks/silo1-chunk000000000")),
        _ => throw new ArgumentOutOfRangeException(nameof(endpoint), endpoint, "Unknown endpoint."),
    };
}
