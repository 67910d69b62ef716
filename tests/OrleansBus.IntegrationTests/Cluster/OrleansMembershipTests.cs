using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using OrleansBus.Contracts;

namespace OrleansBus.IntegrationTests.Cluster;

/// <summary>
/// Membership is Orleans': three silo processes on one PostgreSQL appear as three Active rows of Orleans' membership
/// table, a SIGKILLed silo is declared dead there and leaves the category grain's writer set (which the gateway routes
/// produce by), and its peers then stop cleanly (no crash on the way out).
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class OrleansMembershipTests
{
    [Fact]
    public async Task Three_silos_are_three_Active_rows_and_a_killed_one_is_declared_dead_while_the_rest_keep_serving_and_stop_cleanly()
    {
        await using var cluster = await TestCluster.StartAsync("orleans-members", silos: 3, new ClusterShape { Gateway = true });

        var rows = await cluster.OrleansMembershipAsync();
        Assert.Equal(["s1", "s2", "s3"], rows.Where(r => r.Status == OrleansRow.Active).Select(r => r.SiloName).Order().ToArray());
        Assert.Equal(cluster.Silos.Select(s => s.OrleansSiloPort).Order(), rows.Select(r => r.Port).Order());
        foreach (var silo in cluster.Silos)
        {
            var members = await cluster.MembersAsync(silo);
            Assert.Equal(["s1", "s2", "s3"], members.Where(m => m.Live).Select(m => m.Id).Order().ToArray());
            Assert.Equal(silo.BaseUrl, members.Single(m => m.Self).Address);
        }

        await using var orleans = await ClusterClient.ConnectAsync(cluster);
        var category = orleans.Client.GetGrain<OrleansBus.Contracts.Grains.ICategoryGrain>("after-kill");
        Assert.Equal(["s1", "s2", "s3"], await category.GetWritersAsync());

        // SIGKILL s3: Orleans declares it dead (probes, votes, the table), without any heartbeat table of ours.
        var victim = cluster["s3"];
        await victim.KillAsync();
        var clock = Stopwatch.StartNew();
        await cluster.WaitUntilAsync(async () => (await cluster.OrleansMembershipAsync()).Any(r => r.SiloName == "s3" && r.Status == OrleansRow.Dead),
            "s3 declared Dead in Orleans' membership table after SIGKILL", TimeSpan.FromSeconds(30));
        var declaredAfter = clock.Elapsed;
        await cluster.WaitUntilAsync(async () => !(await cluster.MembersAsync(cluster["s1"])).Any(m => m.Id == "s3" && m.Live),
            "s1 no longer counting s3 live", TimeSpan.FromSeconds(15));
        await cluster.WaitUntilAsync(async () => (await category.GetWritersAsync()).SequenceEqual(["s1", "s2"]),
            "the category grain's writer set dropping s3", TimeSpan.FromSeconds(15));

        // The gateway routes around it and the survivors keep taking writes.
        using (var response = await cluster.Http.PostAsync(new Uri($"{cluster.GatewayUrl}/v1/categories/after-kill/messages"), new StringContent("still here\n")))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var produced = await response.Content.ReadFromJsonAsync<ProduceResult>();
            Assert.NotEqual("s3", TestCluster.OwnerOf(produced!.Chunk));
        }

        // A silo stopped right after a peer's death exits cleanly (it once crashed on a disposed database source).
        var exit = await cluster["s2"].StopAsync();
        Assert.True(exit == 0, $"s2 exited with {exit?.ToString() ?? "a kill"} when stopped after s3's death (s3 declared dead after {declaredAfter.TotalSeconds:0.0} s).\n{cluster.Logs()}");
        Assert.DoesNotContain("ObjectDisposedException", cluster["s2"].LogTail(), StringComparison.Ordinal);
    }
}
