using System.Diagnostics;
using OrleansBus.Testing;

namespace OrleansBus.IntegrationTests.Cluster;

/// <summary>
/// An owner dies mid-write: what it acknowledged with <c>min_sync_replicas</c> is on a replica, which seals the owner's
/// chunk once the owner has been dead past OwnerDeadAfter, and the group reads everything through the survivors.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class OwnerFailureTests
{
    private const string Category = "payments";
    private const int Producers = 3;
    private const int KillAfterBatches = 60;

    [Fact]
    public async Task Killing_an_owner_during_produce_with_min_sync_replicas_loses_no_acknowledged_message()
    {
        await using var cluster = await TestCluster.StartAsync("owner-kill", silos: 3, new ClusterShape
        {
            // Large enough that s1 never rotates before the kill: exactly one chunk is being written when it dies.
            Settings = { ["MaxChunkBytes"] = "4194304" },
        });
        var owner = cluster["s1"];
        var survivor = cluster["s2"];
        var epochBefore = (await cluster.MembersAsync(owner)).Single(m => m.Self).Epoch;
        var producer = new NumberedProducer(cluster.Http, Category, "p", messagesPerBatch: 50);

        // Producers write to s1 directly (so s1 owns the chunks) until a produce fails; SIGKILL lands mid-stream.
        var killed = new TaskCompletionSource();
        var producers = Enumerable.Range(0, Producers).Select(_ => Task.Run(async () =>
        {
            for (var i = 0; i < 10_000 && !killed.Task.IsCompleted; i++)
            {
                var result = await producer.ProduceNextAsync(owner.BaseUrl, "min_sync_replicas=1");
                if (result is not null)
                    Assert.Equal("replicas:1", result.Durability);
            }
        })).ToArray();
        await cluster.WaitUntilAsync(() => Task.FromResult(producer.Acknowledged.Count >= KillAfterBatches || producers.Any(p => p.IsCompleted)),
            $"{KillAfterBatches} batches acknowledged with min_sync_replicas=1 by {owner.SiloId}", TimeSpan.FromSeconds(30));
        Assert.True(producers.All(p => !p.IsCompleted), "A producer stopped before the kill.");
        await owner.KillAsync();
        var killedAt = Stopwatch.StartNew();
        killed.SetResult();
        await Task.WhenAll(producers);
        var acknowledged = producer.AcknowledgedMessages();
        var unacknowledged = producer.FailedMessages();
        Assert.True(producer.Failed.Values.All(f => !f.StartsWith("503", StringComparison.Ordinal) || f.Contains("not_enough_replicas", StringComparison.Ordinal) || f.Contains("not_ready", StringComparison.Ordinal)),
            $"A produce failed unexpectedly: {string.Join("; ", producer.Failed.Values.Take(5))}");

        // The chunk s1 was writing when it died (active in the catalog): sealed by a replica soon after OwnerDeadAfter.
        var active = (await cluster.CatalogAsync(Category)).Where(r => r.Owner == owner.SiloId && r.State == "active").ToArray();
        Assert.True(active.Length == 1, $"The catalog lists {active.Length} active chunks of {owner.SiloId} right after the kill: {string.Join(", ", active.Select(r => r.Name))}.");
        var writing = active[0].Name;
        var sealedRow = await cluster.WaitForAsync(async () =>
            (await cluster.CatalogAsync(Category)).SingleOrDefault(r => r.Name == writing && r.State != "active"),
            $"{writing} (active when {owner.SiloId} was killed) leaving state active in the catalog", TestCluster.OwnerDeadAfter + TimeSpan.FromSeconds(10));
        Assert.True(sealedRow.State is "sealed" or "archived", $"{writing} is {sealedRow.State} after its owner died.");
        Assert.True(sealedRow.SealedBy is "s2" or "s3", $"{writing} was sealed by '{sealedRow.SealedBy}', not by one of the surviving replicas s2, s3.");
        Assert.True(killedAt.Elapsed < TestCluster.OwnerDeadAfter + TimeSpan.FromSeconds(10), $"Sealing took {killedAt.Elapsed.TotalSeconds:0.0} s after the kill.");
        var ackedInWriting = producer.Acknowledged.Values.Where(r => r.Chunk == writing).Select(r => r.Offset + r.Length).DefaultIfEmpty(0).Max();
        Assert.True(sealedRow.Size >= ackedInWriting, $"{writing} was sealed at {sealedRow.Size} bytes but batches up to {ackedInWriting} were acknowledged with a replica.");

        // Through a survivor, the group reads every acknowledged message (some unacknowledged ones may come too).
        var ledger = new GroupLedger(cluster, Category, "settlement");
        await ledger.ConsumeAsync(survivor.BaseUrl, "c1", () => Task.FromResult(ledger.HasAll(acknowledged)), TimeSpan.FromSeconds(45));
        ledger.AssertAcknowledgedOnce(acknowledged, unacknowledged);

        // The owner comes back with a new epoch, serves reads of its chunks and takes produces again.
        await owner.StartAsync();
        var self = (await cluster.MembersAsync(owner)).Single(m => m.Self);
        Assert.True(self.Epoch > epochBefore, $"{owner.SiloId} restarted with epoch {self.Epoch}, not above {epochBefore}.");
        await cluster.WaitUntilAsync(async () => (await cluster.MembersAsync(survivor)).Any(m => m.Id == owner.SiloId && m.Live && m.Epoch == self.Epoch),
            $"{survivor.SiloId} seeing {owner.SiloId} live again with epoch {self.Epoch}", TimeSpan.FromSeconds(15));
        var fromOwner = await cluster.ReadChunkAsync(owner.BaseUrl, Category, writing, sealedRow.Size);
        var fromSurvivor = await cluster.ReadChunkAsync(survivor.BaseUrl, Category, writing, sealedRow.Size);
        Assert.True(fromOwner.AsSpan().SequenceEqual(fromSurvivor), $"{owner.SiloId} and {survivor.SiloId} serve different bytes of {writing} after the restart.");
        var after = await producer.ProduceNextAsync(owner.BaseUrl, "min_sync_replicas=1");
        Assert.True(after is not null, $"A produce to the restarted {owner.SiloId} failed: {producer.Failed.OrderBy(p => p.Key).Last().Value}\n{cluster.Logs()}");
        Assert.True(after.Chunk != writing && TestCluster.OwnerOf(after.Chunk) == owner.SiloId, $"The restarted owner appended to {after.Chunk}.");

        // Drained through the survivor: every acknowledged message exactly once, including the tail the owner re-published
        // and the batch produced after the restart.
        var all = producer.AcknowledgedMessages();
        await ledger.ConsumeAsync(survivor.BaseUrl, "c2", async () => ledger.HasAll(all) && await ledger.DrainedAsync(survivor.BaseUrl), TimeSpan.FromSeconds(45));
        ledger.AssertAcknowledgedOnce(all, unacknowledged);
    }
}
