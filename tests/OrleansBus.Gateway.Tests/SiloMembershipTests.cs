using System.Net;
using OrleansBus.Testing;

namespace OrleansBus.Gateway.Tests;

/// <summary>
/// Cluster mode end to end: silos on PostgreSQL join Orleans' membership themselves and the gateway, an Orleans client
/// of the same cluster, learns them from it; the test writes no row.
/// </summary>
public sealed class SiloMembershipTests
{
    [Fact]
    public async Task Silos_that_register_themselves_get_traffic_by_id_and_a_killed_one_is_routed_around()
    {
        using var dir = new TempDirectory("gw-selfreg");
        var (siloSettings, gatewaySettings) = await GatewayCluster.NewClusterSettingsAsync("selfreg");
        await using var s1 = new SiloProcess(dir.Combine("s1", "data"), "s1", siloSettings);
        await using var s2 = new SiloProcess(dir.Combine("s2", "data"), "s2", siloSettings);
        await s1.StartAsync(); // first: it creates the schema, so the two migrations do not race
        await s2.StartAsync();
        await using var gateway = new GatewayProcess(dir.Combine("gw", "work"), gatewaySettings);
        await gateway.StartAsync();
        await gateway.WaitForLiveSilosAsync(2);
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(60) };

        var before = await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => GatewayCluster.ProduceAsync(http, gateway.BaseUrl, "selfreg", Line())));
        Assert.Equal(["s1", "s2"], before.Select(p => p.Silo).Distinct().Order());
        Assert.All(before, p => Assert.Equal(p.Silo, p.ChunkOwner));

        // Right after the kill Orleans has not declared s1 dead yet (a second or two): only the failed connect keeps traffic off it.
        await s1.KillAsync();
        var after = await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => GatewayCluster.ProduceAsync(http, gateway.BaseUrl, "selfreg", Line())));
        Assert.All(after, p => Assert.Equal((HttpStatusCode.OK, "s2"), (p.Status, p.Silo)));
        var keyed = await GatewayCluster.ProduceAsync(http, gateway.BaseUrl, "selfreg", Line(), key: "any");
        Assert.Equal((HttpStatusCode.OK, "s2"), (keyed.Status, keyed.Silo));
    }

    private static byte[] Line() => "m\n"u8.ToArray();
}
