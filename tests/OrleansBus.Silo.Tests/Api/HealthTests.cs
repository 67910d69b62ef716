using System.Net;
using System.Net.Sockets;
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

    [Fact]
    public async Task An_unreachable_archive_leaves_the_silo_ready_but_says_it_is_degraded()
    {
        using var closed = new TcpListener(IPAddress.Loopback, 0);
        closed.Start();
        var port = ((IPEndPoint)closed.LocalEndpoint).Port;
        closed.Stop(); // nothing listens there now
        using var noArchive = SiloApiFactory.WithSettings(
            ("Bus:Archive:Kind", "blob"),
            ("Bus:Archive:Blob:ConnectionString", $"DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=a2V5;BlobEndpoint=http://127.0.0.1:{port}/devstoreaccount1;"));
        using var client = noArchive.CreateClient();

        using var response = await client.GetAsync(RawUri(client, "/health/ready"));

        await AssertStatusAsync(response, HttpStatusCode.OK);
        var body = await response.Content.ReadAsStringAsync();
        Assert.StartsWith("ready\ndegraded archive: ", body, StringComparison.Ordinal);
    }
}
