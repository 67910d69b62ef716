using System.Net;
using System.Text;
using OrleansBus.Contracts;
using OrleansBus.Testing;

namespace OrleansBus.Gateway.Tests;

/// <summary>A gateway whose only silo is not running yet, then starts: refusals first, then service.</summary>
public sealed class NoLiveSiloTests
{
    [Fact]
    public async Task Without_a_live_silo_requests_get_503_no_live_silo_until_one_starts()
    {
        using var dir = new TempDirectory("gw-none");
        var (siloSettings, gatewaySettings) = await GatewayCluster.NewClusterSettingsAsync("none");
        await using var silo = new SiloProcess(dir.Combine("s1", "data"), "s1", siloSettings);
        // The cluster's database exists but no silo has joined (nor created the schema): the gateway keeps trying.
        await using var gateway = new GatewayProcess(dir.Combine("gw", "work"), gatewaySettings);
        await gateway.StartAsync();
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(60) };

        using (var ready = await http.GetAsync(new Uri(gateway.BaseUrl + "/health/ready")))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
            Assert.Equal(BusErrorCodes.NoLiveSilo, (await GatewayCluster.ProblemAsync(ready)).Code);
        }
        var produced = await GatewayCluster.ProduceAsync(http, gateway.BaseUrl, "waiting", Encoding.UTF8.GetBytes("m\n"));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, produced.Status);
        var problem = System.Text.Json.JsonSerializer.Deserialize<BusProblem>(produced.Body)!;
        Assert.Equal(BusErrorCodes.NoLiveSilo, problem.Code);
        Assert.Contains("No silo is live", problem.Detail, StringComparison.Ordinal);
        Assert.Contains("knows of no", problem.Detail, StringComparison.Ordinal); // no silo has joined the cluster yet
        using (var live = await http.GetAsync(new Uri(gateway.BaseUrl + "/health/live")))
            Assert.Equal(HttpStatusCode.OK, live.StatusCode);

        // Names are judged by the gateway itself, with the silos' codes, values and limits: no silo is even live here.
        using (var badCategory = await http.PostAsync(new Uri(gateway.BaseUrl + "/v1/categories/Bad_Name/messages"), new StringContent("m\n")))
        {
            Assert.Equal(HttpStatusCode.BadRequest, badCategory.StatusCode);
            var refused = await GatewayCluster.ProblemAsync(badCategory);
            Assert.Equal((BusErrorCodes.InvalidCategoryName, "Bad_Name", "128"), (refused.Code, refused.Value?.ToString(), refused.Limit?.ToString()));
        }
        using (var spansSegments = await http.GetAsync(new Uri(gateway.BaseUrl + "/v1/categories/a/b/chunks")))
            Assert.Equal("a/b", (await GatewayCluster.ProblemAsync(spansSegments)).Value?.ToString());
        using (var badGroup = await http.PostAsync(new Uri(gateway.BaseUrl + "/v1/categories/fine/groups/No.Caps/poll"), null))
        {
            Assert.Equal(HttpStatusCode.BadRequest, badGroup.StatusCode);
            var refused = await GatewayCluster.ProblemAsync(badGroup);
            Assert.Equal((BusErrorCodes.InvalidGroupName, "No.Caps"), (refused.Code, refused.Value?.ToString()));
        }

        await silo.StartAsync();

        await AwaitReadyAsync(http, gateway, TimeSpan.FromSeconds(40));
        // One silo: reads through the gateway are guaranteed to reach the owner, so the whole round trip
        // (10 MiB each way) goes through the gateway.
        var body = TestBodies.Lines(10 * 1024 * 1024, seed: 11);
        var big = await GatewayCluster.ProduceAsync(http, gateway.BaseUrl, "waiting", body);
        Assert.Equal((HttpStatusCode.OK, silo.SiloId), (big.Status, big.Silo));
        using var read = await http.GetAsync(new Uri(
            $"{gateway.BaseUrl}/v1/categories/waiting/chunks/{big.Result!.Chunk}?offset={big.Result.Offset}&max_bytes={body.Length}"));
        Assert.Equal(HttpStatusCode.OK, read.StatusCode);
        Assert.Equal(silo.SiloId, read.Headers.GetValues("Bus-Silo").Single());
        var back = await read.Content.ReadAsByteArrayAsync();
        Assert.True(body.AsSpan().SequenceEqual(back), "The 10 MiB read back through the gateway differs from what was produced.");
    }

    private static async Task AwaitReadyAsync(HttpClient http, GatewayProcess gateway, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            using var ready = await http.GetAsync(new Uri(gateway.BaseUrl + "/health/ready"));
            if (ready.StatusCode == HttpStatusCode.OK)
                return;
            await Task.Delay(100);
        }
        Assert.Fail($"The gateway's /health/ready never answered 200 within {timeout.TotalSeconds:0} s after the silo started. Log:\n{gateway.LogTail()}");
    }
}
