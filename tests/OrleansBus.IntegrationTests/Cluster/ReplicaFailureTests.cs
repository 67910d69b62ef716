using System.Collections.Concurrent;
using System.Diagnostics;
using OrleansBus.Testing;
using Xunit.Abstractions;

namespace OrleansBus.IntegrationTests.Cluster;

/// <summary>
/// Issue 19, item 3: the replica of the chunk a silo is writing dies (SIGKILL) or freezes (SIGSTOP) while producers wait
/// for <c>min_sync_replicas=1</c>. A replica whose connections are refused is replaced at once, so the producers of the
/// healthy owner are not held up until Orleans declares the replica dead; a frozen one is replaced once Orleans does.
/// Nothing acknowledged is lost. The longest gap between acknowledged writes is printed (docs/benchmarks.md), not asserted.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class ReplicaFailureTests(ITestOutputHelper output)
{
    private const string Category = "orders";
    private const int Producers = 2;

    [Fact]
    public Task A_killed_replica_is_replaced_at_once_and_its_owner_keeps_acknowledging() => RunAsync("kill", freeze: false);

    [Fact]
    public Task A_frozen_replica_is_replaced_once_Orleans_declares_it_dead() => RunAsync("freeze", freeze: true);

    private async Task RunAsync(string name, bool freeze)
    {
        await using var cluster = await TestCluster.StartAsync("replica-" + name, silos: 3, new ClusterShape { Settings = { ["MaxChunkBytes"] = "16777216" } });
        var owner = cluster["s1"];
        var producer = new NumberedProducer(cluster.Http, Category, "r", messagesPerBatch: 20);
        var clock = Stopwatch.StartNew();
        var answers = new ConcurrentQueue<(TimeSpan At, bool Acknowledged)>();
        var stop = new CancellationTokenSource();
        var producers = Enumerable.Range(0, Producers).Select(_ => Task.Run(async () =>
        {
            for (var i = 0; i < 100_000 && !stop.IsCancellationRequested; i++)
            {
                var result = await producer.ProduceNextAsync(owner.BaseUrl, "min_sync_replicas=1");
                answers.Enqueue((clock.Elapsed, result is not null));
            }
        })).ToArray();
        await cluster.WaitUntilAsync(() => Task.FromResult(producer.Acknowledged.Count >= 30), "30 batches acknowledged by s1", TimeSpan.FromSeconds(30));

        // The silo holding the replica of the chunk s1 is writing: the one whose failure holds s1's producers up.
        var writing = (await cluster.CatalogAsync(Category)).Single(r => r.Owner == owner.SiloId && r.State == "active").Name;
        var replicaId = Assert.Single(await cluster.ReplicasAsync(Category, writing));
        var replica = cluster[replicaId];
        var failedAt = clock.Elapsed;
        if (freeze)
            ProcessPause.Stop(replica.Pid);
        else
            await replica.KillAsync();
        await Task.Delay(TimeSpan.FromSeconds(freeze ? 12 : 6));
        await stop.CancelAsync();
        await Task.WhenAll(producers);
        if (freeze)
            ProcessPause.Continue(replica.Pid); // declared dead meanwhile: it stops itself (fenced)

        var acknowledgedTimes = answers.Where(a => a.Acknowledged).Select(a => a.At).Order().ToArray();
        var after = acknowledgedTimes.Where(t => t > failedAt).ToArray();
        var gap = acknowledgedTimes.Zip(acknowledgedTimes.Skip(1), (a, b) => b - a).Where((_, i) => acknowledgedTimes[i + 1] > failedAt).DefaultIfEmpty().Max();
        output.WriteLine($"{name}: replica {replicaId} of {writing} failed at {failedAt.TotalSeconds:0.00} s; {producer.Acknowledged.Count} batches acknowledged, "
            + $"{after.Length} after the failure; longest gap between acknowledged writes after it {gap.TotalMilliseconds:0} ms; "
            + $"refusals: {string.Join(", ", producer.Failed.Values.Select(f => f.Split(':')[0]).GroupBy(f => f).Select(g => $"{g.Key} x{g.Count()}"))}");
        Assert.NotEmpty(after); // s1 kept acknowledging with a replica
        Assert.DoesNotContain(producer.Failed.Values, f => f.StartsWith("500", StringComparison.Ordinal));
        if (!freeze)
        {
            // Replaced at the first refused connection, long before the 5 s replication timeout: no produce waited it out.
            Assert.DoesNotContain(producer.Failed.Values, f => f.Contains("replication_timeout", StringComparison.Ordinal));
            // ... because the refused connection, not Orleans' death declaration, made s1 replace it.
            Assert.Contains($"Replica {replicaId} of {writing} refuses connections", owner.LogTail(), StringComparison.Ordinal);
        }

        // Every acknowledged batch is where its reply said, read back through a surviving silo (batches refused with a
        // timeout may sit between them: written, not acknowledged).
        var survivor = cluster.Silos.First(s => s.SiloId != replicaId && s.SiloId != owner.SiloId);
        foreach (var chunk in producer.Acknowledged.GroupBy(p => p.Value.Chunk))
        {
            var size = chunk.Max(p => p.Value.Offset + p.Value.Length);
            var read = await cluster.ReadChunkAsync(survivor.BaseUrl, Category, chunk.Key, size);
            foreach (var (batch, result) in chunk)
            {
                var bytes = System.Text.Encoding.UTF8.GetBytes(producer.Body(batch));
                Assert.True(read.AsSpan((int)result.Offset, (int)result.Length).SequenceEqual(bytes),
                    $"{survivor.SiloId} serves batch {batch} of {chunk.Key} at {result.Offset} differently from what was acknowledged.");
            }
        }
    }
}
