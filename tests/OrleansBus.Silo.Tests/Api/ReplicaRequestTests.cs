using System.Net;
using OrleansBus.Contracts;

namespace OrleansBus.Silo.Tests.Api;

/// <summary>A single silo replicates to nobody yet: a produce that asks for replicas is refused, not silently downgraded.</summary>
public sealed class ReplicaRequestTests(SiloApiFactory silo) : IClassFixture<SiloApiFactory>
{
    private readonly HttpClient _client = silo.CreateClient();

    [Fact]
    public async Task Produce_with_min_sync_replicas_above_zero_is_503_and_writes_nothing()
    {
        var c = SiloHttp.NewCategory("replicas");
        using var refused = await SiloHttp.PostRawAsync(_client, c, "m\n"u8.ToArray(), "?min_sync_replicas=1");
        var problem = await SiloHttp.AssertProblemAsync(refused, HttpStatusCode.ServiceUnavailable, BusErrorCodes.NotEnoughReplicas);
        Assert.Equal(1, problem.GetProperty("value").GetInt32());
        Assert.DoesNotContain(await SiloHttp.ListCategoriesAsync(_client), x => x.Name == c);
    }

    [Theory]
    [InlineData("?min_sync_replicas=0", HttpStatusCode.OK)]
    [InlineData("?min_sync_replicas=-1", HttpStatusCode.BadRequest)]
    [InlineData("?min_sync_replicas=two", HttpStatusCode.BadRequest)]
    public async Task Min_sync_replicas_zero_is_accepted_and_a_malformed_value_is_400(string query, HttpStatusCode expected)
    {
        var c = SiloHttp.NewCategory("replicas");
        using var response = await SiloHttp.PostRawAsync(_client, c, "m\n"u8.ToArray(), query);
        Assert.Equal(expected, response.StatusCode);
    }
}
