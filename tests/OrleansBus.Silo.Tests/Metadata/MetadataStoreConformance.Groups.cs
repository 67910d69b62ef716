using OrleansBus.Silo.Groups;
using OrleansBus.Silo.Metadata;

namespace OrleansBus.Silo.Tests.Metadata;

/// <summary>The consumer-group part of the contract: leases, fencing and positions, on every backend.</summary>
public abstract partial class MetadataStoreConformance
{
    private const string G = "billing";
    private const string C = "orders";
    private const long Now = 1_760_000_000_000;

    private static GroupPosition Row(string chunk, long position, long acked = 0, bool done = false) =>
        new(chunk, position, acked, 0, done);

    private async Task<IGroupStore> GroupWithChunksAsync(IMetadataStore? store = null, params string[] chunks)
    {
        store ??= await MigratedAsync();
        await store.Groups.EnsureGroupAsync(G, C, "s1", "earliest", Now, CancellationToken.None);
        var rows = chunks.Select((c, i) => Row(c, 1000 + i)).ToList();
        await store.Groups.MaterializeAsync(G, C, "s1", rows, rows.Count, CancellationToken.None);
        return store.Groups;
    }

    [Fact]
    public async Task Ensure_group_creates_it_once_and_keeps_a_watermark_and_applied_seek_per_silo()
    {
        var groups = (await MigratedAsync()).Groups;
        var created = await groups.EnsureGroupAsync(G, C, "s1", "latest", Now, CancellationToken.None);
        Assert.Equal((0, -1, true, Now, 0, "latest", Now), (created.Materialized, created.AppliedSeek, created.Created, created.CreatedAtMs, created.SeekGeneration, created.SeekKind, created.SeekTimeMs));
        var again = await groups.EnsureGroupAsync(G, C, "s1", "earliest", Now + 5, CancellationToken.None);
        Assert.Equal((false, "latest", Now), (again.Created, again.SeekKind, again.CreatedAtMs)); // the first start wins

        await groups.ResetAsync(G, C, "s1", [Row("s1-chunk000000000", 5)], appliedSeek: 0, CancellationToken.None);
        await groups.MaterializeAsync(G, C, "s1", [], 0, CancellationToken.None); // a watermark never moves back
        var s1 = await groups.EnsureGroupAsync(G, C, "s1", "earliest", Now, CancellationToken.None);
        var s2 = await groups.EnsureGroupAsync(G, C, "s2", "earliest", Now, CancellationToken.None);
        Assert.Equal((1, 0), (s1.Materialized, s1.AppliedSeek));
        Assert.Equal((0, -1), (s2.Materialized, s2.AppliedSeek));
        Assert.Equal([G], await groups.ListGroupsAsync(C, CancellationToken.None));
    }

    [Fact]
    public async Task A_seek_is_recorded_as_a_new_generation_for_every_silo_to_apply()
    {
        var groups = (await MigratedAsync()).Groups;
        await groups.EnsureGroupAsync(G, C, "s1", "earliest", Now, CancellationToken.None);
        Assert.Equal(1, await groups.SeekAsync(G, C, "time", Now + 77, CancellationToken.None));
        Assert.Equal(2, await groups.SeekAsync(G, C, "latest", Now + 99, CancellationToken.None));
        var state = await groups.EnsureGroupAsync(G, C, "s2", "earliest", Now, CancellationToken.None);
        Assert.Equal((2, "latest", Now + 99, -1), (state.SeekGeneration, state.SeekKind, state.SeekTimeMs, state.AppliedSeek));
        await Assert.ThrowsAsync<MetadataStoreException>(() => groups.SeekAsync("nobody", C, "earliest", Now, CancellationToken.None));
    }

    [Fact]
    public async Task Materializing_again_keeps_existing_positions_and_open_rows_come_in_chunk_order()
    {
        var groups = await GroupWithChunksAsync(null, "s1-chunk000000001", "s1-chunk000000000");
        Assert.NotNull(await groups.TryLeaseAsync(G, C, "s1-chunk000000001", 0, "t1", "c1", 50, 0, Now + 1000, Now, CancellationToken.None));
        Assert.True(await groups.AckAsync(G, C, "s1-chunk000000001", "t1", 50, 5, release: true, CancellationToken.None));
        await groups.MaterializeAsync(G, C, "s1", [Row("s1-chunk000000001", 1000)], 2, CancellationToken.None);

        var open = await groups.ListOpenAsync(G, C, CancellationToken.None);
        Assert.Equal(["s1-chunk000000001", "s1-chunk000000000"], open.Select(r => r.Chunk));
        Assert.Equal((50L, 5L), (open[0].AckedOffset, open[0].AckedMessages));
        await groups.MarkDoneAsync(G, C, "s1-chunk000000001", 50, CancellationToken.None);
        Assert.Equal(["s1-chunk000000000"], (await groups.ListOpenAsync(G, C, CancellationToken.None)).Select(r => r.Chunk));
    }

    [Fact]
    public async Task A_held_lease_is_not_granted_again_until_it_expires_and_then_counts_a_second_delivery()
    {
        var groups = await GroupWithChunksAsync(null, "s1-chunk000000000");
        Assert.Equal(1, await groups.TryLeaseAsync(G, C, "s1-chunk000000000", 0, "t1", "c1", 100, 0, Now + 1000, Now, CancellationToken.None));
        Assert.Null(await groups.TryLeaseAsync(G, C, "s1-chunk000000000", 0, "t2", "c2", 100, 0, Now + 2000, Now + 999, CancellationToken.None));
        Assert.Equal(2, await groups.TryLeaseAsync(G, C, "s1-chunk000000000", 0, "t3", "c2", 100, 0, Now + 3000, Now + 1000, CancellationToken.None));
        Assert.Null(await groups.TryLeaseAsync(G, C, "s1-chunk000000000", 40, "t4", "c3", 100, 0, Now + 9000, Now + 5000, CancellationToken.None)); // the caller read offset 40, the row is at 0: refused
        var row = await groups.GetAsync(G, C, "s1-chunk000000000", CancellationToken.None);
        Assert.Equal(("t3", "c2", 100L, 2), (row!.LeaseToken, row.LeaseConsumer, row.LeaseEnd, row.DeliveryCount));
    }

    [Fact]
    public async Task Twenty_concurrent_lease_attempts_from_two_stores_grant_the_range_exactly_once()
    {
        var first = await MigratedAsync();
        var second = await OpenAsync();
        await second.MigrateAsync(CancellationToken.None);
        await GroupWithChunksAsync(first, "s1-chunk000000000");
        var attempts = Enumerable.Range(0, 20).Select(i => (i % 2 == 0 ? first : second).Groups.TryLeaseAsync(
            G, C, "s1-chunk000000000", 0, $"t{i}", $"c{i}", 100, 0, Now + 30_000, Now, CancellationToken.None));
        var results = await Within(Task.WhenAll(attempts), "20 concurrent lease attempts");
        Assert.Single(results, r => r is not null);
    }

    [Fact]
    public async Task Ack_is_fenced_by_the_lease_token_and_a_partial_ack_keeps_the_lease()
    {
        var groups = await GroupWithChunksAsync(null, "s1-chunk000000000");
        await groups.TryLeaseAsync(G, C, "s1-chunk000000000", 0, "t1", "c1", 100, 10, Now + 1000, Now, CancellationToken.None);
        Assert.False(await groups.AckAsync(G, C, "s1-chunk000000000", "stale", 100, 10, release: true, CancellationToken.None));
        Assert.False(await groups.AckAsync(G, C, "s1-chunk000000000", "t1", 101, 10, release: true, CancellationToken.None)); // past the lease
        Assert.True(await groups.AckAsync(G, C, "s1-chunk000000000", "t1", 40, 4, release: false, CancellationToken.None));
        var partial = await groups.GetAsync(G, C, "s1-chunk000000000", CancellationToken.None);
        Assert.Equal((40L, 4L, "t1", 6L), (partial!.AckedOffset, partial.AckedMessages, partial.LeaseToken, partial.LeaseMessages));
        Assert.True(await groups.AckAsync(G, C, "s1-chunk000000000", "t1", 100, 6, release: true, CancellationToken.None));
        var full = await groups.GetAsync(G, C, "s1-chunk000000000", CancellationToken.None);
        Assert.Equal((100L, 10L, (string?)null, 0), (full!.AckedOffset, full.AckedMessages, full.LeaseToken, full.DeliveryCount));
        Assert.False(await groups.AckAsync(G, C, "s1-chunk000000000", "t1", 100, 0, release: true, CancellationToken.None));
    }

    [Fact]
    public async Task Nack_releases_the_range_after_its_delay_and_keeps_the_reason()
    {
        var groups = await GroupWithChunksAsync(null, "s1-chunk000000000");
        await groups.TryLeaseAsync(G, C, "s1-chunk000000000", 0, "t1", "c1", 100, 0, Now + 30_000, Now, CancellationToken.None);
        Assert.False(await groups.NackAsync(G, C, "s1-chunk000000000", "stale", Now, "x", CancellationToken.None));
        Assert.True(await groups.NackAsync(G, C, "s1-chunk000000000", "t1", Now + 500, "bad input", CancellationToken.None));
        Assert.Null(await groups.TryLeaseAsync(G, C, "s1-chunk000000000", 0, "t2", "c1", 100, 0, Now + 30_000, Now + 499, CancellationToken.None));
        Assert.Equal(2, await groups.TryLeaseAsync(G, C, "s1-chunk000000000", 0, "t3", "c1", 100, 0, Now + 30_000, Now + 500, CancellationToken.None));
        Assert.Equal("bad input", (await groups.GetAsync(G, C, "s1-chunk000000000", CancellationToken.None))!.LastReason);
    }

    [Fact]
    public async Task Skip_moves_past_a_poison_message_only_under_the_claim_taken_for_it()
    {
        var groups = await GroupWithChunksAsync(null, "s1-chunk000000000");
        Assert.NotNull(await groups.TryLeaseAsync(G, C, "s1-chunk000000000", 0, "claim", "dead-letter", 7, 0, Now + 1000, Now, CancellationToken.None));
        Assert.False(await groups.SkipAsync(G, C, "s1-chunk000000000", "other", 0, 7, CancellationToken.None));
        Assert.True(await groups.SkipAsync(G, C, "s1-chunk000000000", "claim", 0, 7, CancellationToken.None));
        var row = await groups.GetAsync(G, C, "s1-chunk000000000", CancellationToken.None);
        Assert.Equal((7L, 1L, 0, (string?)null), (row!.AckedOffset, row.AckedMessages, row.DeliveryCount, row.LeaseToken));
        Assert.False(await groups.SkipAsync(G, C, "s1-chunk000000000", "claim", 0, 7, CancellationToken.None));
    }

    [Fact]
    public async Task Reset_rewrites_the_given_chunks_and_leaves_other_silos_chunks_alone()
    {
        var groups = await GroupWithChunksAsync(null, "s1-chunk000000000");
        await groups.MaterializeAsync(G, C, "s2", [Row("s2-chunk000000000", 2000)], 1, CancellationToken.None);
        await groups.TryLeaseAsync(G, C, "s1-chunk000000000", 0, "t1", "c1", 100, 0, Now + 1000, Now, CancellationToken.None);

        await groups.ResetAsync(G, C, "s1", [Row("s1-chunk000000000", 1000, acked: 100, done: true)], appliedSeek: 0, CancellationToken.None);

        var open = await groups.ListOpenAsync(G, C, CancellationToken.None);
        Assert.Equal(["s2-chunk000000000"], open.Select(r => r.Chunk));
        var reset = await groups.GetAsync(G, C, "s1-chunk000000000", CancellationToken.None);
        Assert.Equal((100L, (string?)null, true), (reset!.AckedOffset, reset.LeaseToken, reset.Done));
    }
}
