using System.Net;
using static OrleansBus.Silo.Tests.Api.SiloHttp;

namespace OrleansBus.Silo.Tests.Api;

/// <summary><c>/health/live</c> and <c>/health/ready</c> on a started silo.</summary>
public sealed class HealthTests(SiloApiFactory silo) : IClassFixture<SiloApiFactory>
{
    private readonly HttpClient _client = silo.CreateClient();

    [Theory]
    [InlineData("/health/live", "live\n")]
    [InlineData("/health/ready", "ready\n")]
    public async Task Health_endpoint_answers_200_once_the_silo_has_started(string path, string body)
    {
        using var response = await _client.GetAsync(RawUri(_client, path));

        await AssertStatusAsync(response, HttpStatusCode.OK);
        Assert.Equal(body, await response.Content.ReadAsStringAsync());
    }
}
