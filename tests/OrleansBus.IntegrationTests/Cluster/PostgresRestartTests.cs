using OrleansBus.Testing;

namespace OrleansBus.IntegrationTests.Cluster;

/// <summary>
/// PostgreSQL (catalog, groups, membership) restarts between two phases of produce and consume through the gateway:
/// the silos and the gateway reconnect by themselves, and everything acknowledged is consumed exactly once.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class PostgresRestartTests
{
    private const string Category = "events";
    // What a silo logs when it cannot read Orleans' membership table (its fence re-reads it twice a second).
    private const string MembershipReadFailed = "Membership table read failed";

    [Fact]
    public async Task PostgreSQL_restart_mid_run_lets_silos_reconnect_and_produce_and_consume_continue()
    {
        await using var postgres = await PostgresServer.StartNewAsync();
        await using var cluster = await TestCluster.StartAsync("pg-restart", silos: 3, new ClusterShape
        {
            Postgres = postgres,
            Gateway = true,
            Settings = { ["MaxChunkBytes"] = "16384" }, // chunks rotate, so the catalog is needed during both phases
        });
        var producer = new NumberedProducer(cluster.Http, Category, "e", messagesPerBatch: 50);
        var ledger = new GroupLedger(cluster, Category, "projections");

        // Phase 1, database up.
        for (var b = 0; b < 30; b++)
            Assert.NotNull(await producer.ProduceNextAsync(cluster.GatewayUrl));
        var phase1 = producer.AcknowledgedMessages();
        await ledger.ConsumeAsync(cluster.GatewayUrl, "c1", async () => ledger.HasAll(phase1) && await ledger.DrainedAsync(cluster.GatewayUrl), TimeSpan.FromSeconds(30));

        // Down until every silo has noticed (a membership read failed); produces meanwhile may fail or succeed.
        int Failures(SiloProcess silo) => CountOf(File.ReadAllText(silo.LogPath), MembershipReadFailed);
        var before = cluster.Silos.ToDictionary(s => s.SiloId, Failures);
        await postgres.StopAsync();
        try
        {
            await cluster.WaitUntilAsync(async () =>
            {
                await producer.ProduceNextAsync(cluster.GatewayUrl);
                return cluster.Silos.All(s => Failures(s) > before[s.SiloId]);
            }, "every silo logging a failed membership read while PostgreSQL was stopped", TimeSpan.FromSeconds(15));
            // Readiness names the database (what Aspire's dashboard and a container platform's probe see).
            using var notReady = await cluster.Http.GetAsync(new Uri(cluster.Silos[0].BaseUrl + "/health/ready"));
            var problem = await notReady.Content.ReadAsStringAsync();
            Assert.True(notReady.StatusCode == System.Net.HttpStatusCode.ServiceUnavailable && problem.Contains("\"not_ready\"", StringComparison.Ordinal)
                && problem.Contains("metadata: ", StringComparison.Ordinal), $"/health/ready with PostgreSQL stopped: {(int)notReady.StatusCode} {problem}");
        }
        finally
        {
            await postgres.StartAsync();
        }

        // Phase 2: within a bound, produces succeed again and the silos see each other live again.
        var target = producer.Acknowledged.Count + 30;
        await cluster.WaitUntilAsync(async () =>
        {
            await producer.ProduceNextAsync(cluster.GatewayUrl);
            return producer.Acknowledged.Count >= target;
        }, $"30 more produces acknowledged through the gateway after PostgreSQL came back (failures: {producer.Failed.Count})", TimeSpan.FromSeconds(30));
        await cluster.WaitForMembersAsync(cluster.Silos, TimeSpan.FromSeconds(15));
        await cluster.Gateway!.WaitForLiveSilosAsync(cluster.Silos.Length);
        await cluster.WaitUntilAsync(async () =>
        {
            using var ready = await cluster.Http.GetAsync(new Uri(cluster.Silos[0].BaseUrl + "/health/ready"));
            return ready.IsSuccessStatusCode;
        }, "silo1 ready again after PostgreSQL came back", TimeSpan.FromSeconds(15));

        var acknowledged = producer.AcknowledgedMessages();
        await ledger.ConsumeAsync(cluster.GatewayUrl, "c2", async () => ledger.HasAll(acknowledged) && await ledger.DrainedAsync(cluster.GatewayUrl), TimeSpan.FromSeconds(45));
        ledger.AssertAcknowledgedOnce(acknowledged, producer.FailedMessages());
        ledger.AssertChunksCovered(await cluster.ChunksAsync(cluster.GatewayUrl, Category));
    }

    private static int CountOf(string text, string value)
    {
        var count = 0;
        for (var i = text.IndexOf(value, StringComparison.Ordinal); i >= 0; i = text.IndexOf(value, i + value.Length, StringComparison.Ordinal))
            count++;
        return count;
    }
}
