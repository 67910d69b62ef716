using System.Text;
using OrleansBus.Testing;
using Xunit.Abstractions;

namespace OrleansBus.IntegrationTests.Cluster;

/// <summary>
/// Issue 19's fault round, as an operations team would live it: three silos, PostgreSQL and Azurite as processes, a
/// gateway; four producers (min_sync_replicas=1, one request in flight each, half through the gateway, half straight to
/// silos) and two consumers of one group through the gateway, while one silo is SIGKILLed and restarted, another frozen
/// (SIGSTOP) and resumed, PostgreSQL restarted and Azurite stopped and started. Then everything is read back and checked
/// against what the clients were told: lost (acknowledged, never consumed), duplicates (consumed and acknowledged more
/// than once), inconsistent (a chunk whose bytes differ between silos). Each fault lasts OBUS_FAULT_SECONDS (4 s in the
/// suite; <c>bash tests/fault-round.sh</c> runs the long round).
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class FaultRoundTests(ITestOutputHelper output)
{
    private const string Category = "events";

    private static TimeSpan Phase =>
        TimeSpan.FromSeconds(int.TryParse(Environment.GetEnvironmentVariable("OBUS_FAULT_SECONDS"), out var seconds) && seconds > 0 ? seconds : 4);

    [Fact]
    public async Task A_fault_round_loses_nothing_acknowledged_duplicates_nothing_acknowledged_and_every_silo_serves_the_same_bytes()
    {
        await using var postgres = await PostgresServer.StartNewAsync();
        await using var cluster = await TestCluster.StartAsync("faults", silos: 3, new ClusterShape
        {
            Postgres = postgres,
            Azurite = true,
            Gateway = true,
            Settings = { ["MaxChunkBytes"] = "262144", ["MaxChunkAge"] = "00:00:02" },
        });
        var producer = new NumberedProducer(cluster.Http, Category, "f", messagesPerBatch: 10);
        var ledger = new GroupLedger(cluster, Category, "audit") { AllowLeaseLost = true };
        using var stop = new CancellationTokenSource();
        var producers = Enumerable.Range(0, 4).Select(p => Task.Run(async () =>
        {
            for (var i = 0; i < 1_000_000 && !stop.IsCancellationRequested; i++)
            {
                // Half through the gateway, half straight to a silo that is running (a client with a silo list would skip a dead one).
                var running = cluster.Silos.Where(s => s.IsRunning).ToArray();
                var target = p % 2 == 0 || running.Length == 0 ? cluster.GatewayUrl : running[i % running.Length].BaseUrl;
                if (await producer.ProduceNextAsync(target, "min_sync_replicas=1") is null)
                    await Task.Delay(100);
            }
        })).ToArray();
        var consumers = Enumerable.Range(1, 2).Select(c => Task.Run(() => ledger.ConsumeAsync(cluster.GatewayUrl, $"c{c}",
            async () => stop.IsCancellationRequested && ledger.HasAll(producer.AcknowledgedMessages()) && await ledger.DrainedAsync(cluster.GatewayUrl),
            Phase * 8 + TimeSpan.FromSeconds(120)))).ToArray();

        var log = new StringBuilder();
        async Task FaultAsync(string what, Func<Task> fault, Func<Task> heal)
        {
            var before = producer.Acknowledged.Count;
            await fault();
            await Task.Delay(Phase);
            await heal();
            await Task.Delay(Phase);
            log.AppendLine($"{what}: {producer.Acknowledged.Count - before} batches acknowledged across it, {producer.Failed.Count} refused so far");
        }

        await Task.Delay(Phase);
        var killed = cluster["s3"];
        await FaultAsync("SIGKILL s3, then restart", () => killed.KillAsync(), () => killed.StartAsync());
        var frozen = cluster["s2"];
        await FaultAsync("SIGSTOP s2, then SIGCONT", () => { ProcessPause.Stop(frozen.Pid); return Task.CompletedTask; }, async () =>
        {
            ProcessPause.Continue(frozen.Pid);
            // Declared dead meanwhile, it stops itself (fenced): start it again, as its orchestrator would.
            await Task.Delay(TimeSpan.FromSeconds(2));
            if (!frozen.IsRunning)
                await frozen.StartAsync();
        });
        await FaultAsync("PostgreSQL restart", () => postgres.StopAsync(), () => postgres.StartAsync());
        await FaultAsync("Azurite stopped, then started", () => cluster.Azurite!.StopAsync(), () => cluster.Azurite!.StartAsync());
        await stop.CancelAsync();
        await Task.WhenAll(producers);
        await Task.WhenAll(consumers);

        var acknowledged = producer.AcknowledgedMessages();
        var (lost, duplicates, refusedAcks) = ledger.Count(acknowledged);
        var inconsistent = await InconsistentChunksAsync(cluster);
        output.WriteLine(log.ToString());
        output.WriteLine($"{producer.Acknowledged.Count} batches ({acknowledged.Count} messages) acknowledged, {producer.Failed.Count} refused "
            + $"({string.Join(", ", producer.Failed.Values.Select(f => f.Split(':')[0]).GroupBy(f => f).Select(g => $"{g.Key} x{g.Count()}"))}); "
            + $"lost {lost}, duplicates {duplicates}, refused acks {refusedAcks}, leases lost {ledger.LeasesLost}, inconsistent chunks {inconsistent.Count}");
        Assert.True(inconsistent.Count == 0, "Chunks served differently by different silos: " + string.Join("; ", inconsistent));
        Assert.DoesNotContain(producer.Failed.Values, f => f.StartsWith("500", StringComparison.Ordinal));
        ledger.AssertAcknowledgedOnce(acknowledged, producer.FailedMessages());
    }

    /// <summary>Chunks whose bytes differ between two running silos over the length both serve.</summary>
    private static async Task<List<string>> InconsistentChunksAsync(TestCluster cluster)
    {
        var differences = new List<string>();
        var silos = cluster.Silos.Where(s => s.IsRunning).ToArray();
        foreach (var row in await cluster.CatalogAsync(Category))
        {
            byte[]? first = null;
            foreach (var silo in silos)
            {
                var listed = (await cluster.ChunksAsync(silo.BaseUrl, Category)).SingleOrDefault(c => c.Name == row.Name);
                if (listed is null || listed.Size == 0)
                    continue;
                var bytes = await cluster.ReadChunkAsync(silo.BaseUrl, Category, row.Name, listed.Size);
                first ??= bytes;
                var common = Math.Min(first.Length, bytes.Length);
                if (!first.AsSpan(0, common).SequenceEqual(bytes.AsSpan(0, common)))
                    differences.Add($"{row.Name} on {silo.SiloId}");
            }
        }
        return differences;
    }
}
