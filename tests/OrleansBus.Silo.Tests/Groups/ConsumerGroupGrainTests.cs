using Microsoft.Extensions.DependencyInjection;
using Orleans.TestingHost;
using OrleansBus.Silo.Grains;
using OrleansBus.Silo.Groups;
using OrleansBus.Silo.Metadata;
using OrleansBus.Testing;

namespace OrleansBus.Silo.Tests.Groups;

/// <summary>
/// Two in-process silos (Orleans' TestingHost) with group state on an SQLite file through Orleans.Persistence.AdoNet,
/// as the embedded silo keeps it. Shared by the tests of <see cref="ConsumerGroupGrainTests"/>; each test uses its own group.
/// </summary>
public sealed class GroupGrainCluster : IAsyncLifetime
{
    private readonly TempDirectory _dir = new("group-grains");
    private SqliteMetadataStore _database = null!;

    public InProcessTestCluster Cluster { get; private set; } = null!;

    public string DatabasePath => _dir.Combine("metadata.db");

    public async Task InitializeAsync()
    {
        _database = new SqliteMetadataStore(DatabasePath);
        await _database.MigrateAsync(CancellationToken.None); // our tables, Orleans' storage table among them
        var builder = new InProcessTestClusterBuilder(2);
        builder.ConfigureSilo((_, silo) =>
        {
            silo.AddAdoNetGrainStorage(OrleansBus.Silo.Hosting.OrleansSetup.GroupStorageName, o =>
            {
                o.Invariant = "System.Data.SQLite";
                o.DataSource = new RelaxedSqliteDataSource($"Data Source={DatabasePath};Default Timeout=30;Pooling=True");
            });
            silo.Services.AddKeyedSingleton<IMetadataStore>(CatalogStore.DatabaseKey, _database);
            silo.Services.AddSingleton(TimeProvider.System);
            silo.Services.AddSingleton<LegacyGroupTables>();
        });
        Cluster = builder.Build();
        await Cluster.DeployAsync();
    }

    /// <summary>The group store as a silo's edge uses it, calling in through silo <paramref name="index"/>.</summary>
    public IGroupStore Store(int index) => new GrainGroupStore(Cluster.Silos[index].ServiceProvider.GetRequiredService<IGrainFactory>());

    public async Task DisposeAsync()
    {
        await Cluster.DisposeAsync();
        await _database.DisposeAsync();
        _dir.Dispose();
    }
}

/// <summary>
/// The consumer-group contract as <see cref="ConsumerGroupGrain"/> keeps it: leases, fencing by token, positions, seeks,
/// and a state that forgets finished history. What was <c>SqlGroupStore</c>'s conformance suite, on the grain.
/// </summary>
public sealed class ConsumerGroupGrainTests(GroupGrainCluster fixture) : IClassFixture<GroupGrainCluster>
{
    private const string C = "orders";
    private static readonly CancellationToken None = CancellationToken.None;
    private readonly string G = "g" + Guid.NewGuid().ToString("N")[..10];
    private readonly long Now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();

    private GroupPosition Row(string chunk, long offsetFromNow, long acked = 0, bool done = false) => new(chunk, Now + offsetFromNow, acked, 0, done);

    private async Task<IGroupStore> GroupWithChunksAsync(params string[] chunks)
    {
        var groups = fixture.Store(0);
        await groups.EnsureGroupAsync(G, C, "s1", "earliest", Now, None);
        await groups.MaterializeAsync(G, C, chunks.Select((c, i) => Row(c, i)).ToList(), None);
        return groups;
    }

    [Fact]
    public async Task Ensure_creates_the_group_once_and_keeps_an_applied_seek_per_silo()
    {
        var groups = fixture.Store(0);
        Assert.False(await groups.ExistsAsync(G, C, None));
        var created = await groups.EnsureGroupAsync(G, C, "s1", "latest", Now, None);
        Assert.Equal((-1, true, Now, 0, "latest", Now), (created.AppliedSeek, created.Created, created.CreatedAtMs, created.SeekGeneration, created.SeekKind, created.SeekTimeMs));
        var again = await fixture.Store(1).EnsureGroupAsync(G, C, "s2", "earliest", Now + 5, None);
        Assert.Equal((false, "latest", Now), (again.Created, again.SeekKind, again.CreatedAtMs)); // the first start wins

        Assert.True(await groups.ResetAsync(G, C, "s1", [Row("s1-chunk000000000", 5)], appliedSeek: 0, None));
        Assert.False(await groups.ResetAsync(G, C, "s1", [Row("s1-chunk000000000", 5)], appliedSeek: 0, None)); // applied once
        Assert.Equal(0, (await groups.EnsureGroupAsync(G, C, "s1", "earliest", Now, None)).AppliedSeek);
        Assert.Equal(-1, (await groups.EnsureGroupAsync(G, C, "s2", "earliest", Now, None)).AppliedSeek);
        Assert.True(await groups.ExistsAsync(G, C, None));
    }

    [Fact]
    public async Task A_seek_is_recorded_as_a_new_generation_for_every_silo_to_apply()
    {
        var groups = fixture.Store(0);
        await groups.EnsureGroupAsync(G, C, "s1", "earliest", Now, None);
        Assert.Equal(1, await groups.SeekAsync(G, C, "time", Now + 77, None));
        Assert.Equal(2, await groups.SeekAsync(G, C, "latest", Now + 99, None));
        var state = await fixture.Store(1).EnsureGroupAsync(G, C, "s2", "earliest", Now, None);
        Assert.Equal((2, "latest", Now + 99, -1), (state.SeekGeneration, state.SeekKind, state.SeekTimeMs, state.AppliedSeek));
        await Assert.ThrowsAsync<MetadataStoreException>(() => groups.SeekAsync("nobody", C, "earliest", Now, None));
    }

    [Fact]
    public async Task Materializing_again_keeps_existing_positions_and_open_rows_come_in_chunk_order()
    {
        var groups = await GroupWithChunksAsync("s1-chunk000000001", "s1-chunk000000000");
        Assert.NotNull(await groups.TryLeaseAsync(G, C, "s1-chunk000000001", 0, "t1", "c1", 50, 0, Now + 1000, Now, None));
        Assert.True(await groups.AckAsync(G, C, "s1-chunk000000001", "t1", 50, 5, release: true, None));
        await groups.MaterializeAsync(G, C, [Row("s1-chunk000000001", 0)], None);

        var open = await groups.ListOpenAsync(G, C, None);
        Assert.Equal(["s1-chunk000000001", "s1-chunk000000000"], open.Select(r => r.Chunk));
        Assert.Equal((50L, 5L), (open[0].AckedOffset, open[0].AckedMessages));
        await groups.MarkDoneAsync(G, C, "s1-chunk000000001", 50, None);
        Assert.Equal(["s1-chunk000000000"], (await groups.ListOpenAsync(G, C, None)).Select(r => r.Chunk));
    }

    [Fact]
    public async Task A_held_lease_is_not_granted_again_until_it_expires_and_then_counts_a_second_delivery()
    {
        var groups = await GroupWithChunksAsync("s1-chunk000000000");
        Assert.Equal(1, await groups.TryLeaseAsync(G, C, "s1-chunk000000000", 0, "t1", "c1", 100, 0, Now + 1000, Now, None));
        Assert.Null(await groups.TryLeaseAsync(G, C, "s1-chunk000000000", 0, "t2", "c2", 100, 0, Now + 2000, Now + 999, None));
        Assert.Equal(2, await groups.TryLeaseAsync(G, C, "s1-chunk000000000", 0, "t3", "c2", 100, 0, Now + 3000, Now + 1000, None));
        Assert.Null(await groups.TryLeaseAsync(G, C, "s1-chunk000000000", 40, "t4", "c3", 100, 0, Now + 9000, Now + 5000, None)); // the caller read offset 40, the row is at 0: refused
        var row = await groups.GetAsync(G, C, "s1-chunk000000000", None);
        Assert.Equal(("t3", "c2", 100L, 2), (row!.LeaseToken, row.LeaseConsumer, row.LeaseEnd, row.DeliveryCount));
    }

    [Fact]
    public async Task Twenty_concurrent_lease_attempts_through_two_silos_grant_the_range_exactly_once()
    {
        await GroupWithChunksAsync("s1-chunk000000000");
        var attempts = Enumerable.Range(0, 20).Select(i => fixture.Store(i % 2).TryLeaseAsync(
            G, C, "s1-chunk000000000", 0, $"t{i}", $"c{i}", 100, 0, Now + 30_000, Now, None));
        var results = await Task.WhenAll(attempts).WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Single(results, r => r is not null);
    }

    [Fact]
    public async Task Ack_is_fenced_by_the_lease_token_and_a_partial_ack_keeps_the_lease()
    {
        var groups = await GroupWithChunksAsync("s1-chunk000000000");
        await groups.TryLeaseAsync(G, C, "s1-chunk000000000", 0, "t1", "c1", 100, 10, Now + 1000, Now, None);
        Assert.False(await groups.AckAsync(G, C, "s1-chunk000000000", "stale", 100, 10, release: true, None));
        Assert.False(await groups.AckAsync(G, C, "s1-chunk000000000", "t1", 101, 10, release: true, None)); // past the lease
        Assert.True(await groups.AckAsync(G, C, "s1-chunk000000000", "t1", 40, 4, release: false, None));
        var partial = await groups.GetAsync(G, C, "s1-chunk000000000", None);
        Assert.Equal((40L, 4L, "t1", 6L), (partial!.AckedOffset, partial.AckedMessages, partial.LeaseToken, partial.LeaseMessages));
        Assert.True(await groups.AckAsync(G, C, "s1-chunk000000000", "t1", 100, 6, release: true, None));
        var full = await groups.GetAsync(G, C, "s1-chunk000000000", None);
        Assert.Equal((100L, 10L, (string?)null, 0), (full!.AckedOffset, full.AckedMessages, full.LeaseToken, full.DeliveryCount));
        Assert.False(await groups.AckAsync(G, C, "s1-chunk000000000", "t1", 100, 0, release: true, None));
    }

    [Fact]
    public async Task A_view_creates_the_group_and_a_whole_delivery_ack_settles_its_lease_and_finishes_a_sealed_chunk()
    {
        var groups = fixture.Store(0);
        var (state, open) = await groups.ViewAsync(G, C, "s1", "earliest", Now, None);
        Assert.Equal((true, 0), (state.Created, open.Count));
        await groups.MaterializeAsync(G, C, [Row("s1-chunk000000000", 0), Row("s1-chunk000000001", 1)], None);
        (state, open) = await groups.ViewAsync(G, C, "s1", "latest", Now, None);
        Assert.Equal((false, "earliest"), (state.Created, state.SeekKind));
        Assert.Equal(["s1-chunk000000000", "s1-chunk000000001"], open.Select(r => r.Chunk));

        Assert.Equal(1, await groups.TryLeaseAsync(G, C, "s1-chunk000000000", 0, "t1", "c1", 70, 7, Now + 30_000, Now, None));
        Assert.False(await groups.AckLeaseAsync(G, C, "s1-chunk000000000", "stale", 70, None));
        Assert.True(await groups.AckLeaseAsync(G, C, "s1-chunk000000000", "t1", doneAtSize: 70, None));
        Assert.False(await groups.AckLeaseAsync(G, C, "s1-chunk000000000", "t1", doneAtSize: 70, None)); // settled already
        var row = await groups.GetAsync(G, C, "s1-chunk000000000", None);
        Assert.Equal((70L, 7L, true, (string?)null), (row!.AckedOffset, row.AckedMessages, row.Done, row.LeaseToken));
        Assert.Equal(["s1-chunk000000001"], (await groups.ViewAsync(G, C, "s1", "earliest", Now, None)).Open.Select(r => r.Chunk));

        // Not sealed yet (no final size given): acknowledged, but still open.
        Assert.Equal(1, await groups.TryLeaseAsync(G, C, "s1-chunk000000001", 0, "t2", "c1", 30, 3, Now + 30_000, Now, None));
        Assert.True(await groups.AckLeaseAsync(G, C, "s1-chunk000000001", "t2", doneAtSize: null, None));
        Assert.Equal([30L], (await groups.ListOpenAsync(G, C, None)).Select(r => r.AckedOffset));
    }

    [Fact]
    public async Task Nack_releases_the_range_after_its_delay_and_keeps_the_reason()
    {
        var groups = await GroupWithChunksAsync("s1-chunk000000000");
        await groups.TryLeaseAsync(G, C, "s1-chunk000000000", 0, "t1", "c1", 100, 0, Now + 30_000, Now, None);
        Assert.False(await groups.NackAsync(G, C, "s1-chunk000000000", "stale", Now, "x", None));
        Assert.True(await groups.NackAsync(G, C, "s1-chunk000000000", "t1", Now + 500, "bad input", None));
        Assert.Null(await groups.TryLeaseAsync(G, C, "s1-chunk000000000", 0, "t2", "c1", 100, 0, Now + 30_000, Now + 499, None));
        Assert.Equal(2, await groups.TryLeaseAsync(G, C, "s1-chunk000000000", 0, "t3", "c1", 100, 0, Now + 30_000, Now + 500, None));
        Assert.Equal("bad input", (await groups.GetAsync(G, C, "s1-chunk000000000", None))!.LastReason);
    }

    [Fact]
    public async Task Skip_moves_past_a_poison_message_only_under_the_claim_taken_for_it()
    {
        var groups = await GroupWithChunksAsync("s1-chunk000000000");
        Assert.NotNull(await groups.TryLeaseAsync(G, C, "s1-chunk000000000", 0, "claim", "dead-letter", 7, 0, Now + 1000, Now, None));
        Assert.False(await groups.SkipAsync(G, C, "s1-chunk000000000", "other", 0, 7, None));
        Assert.True(await groups.SkipAsync(G, C, "s1-chunk000000000", "claim", 0, 7, None));
        var row = await groups.GetAsync(G, C, "s1-chunk000000000", None);
        Assert.Equal((7L, 1L, 0, (string?)null), (row!.AckedOffset, row.AckedMessages, row.DeliveryCount, row.LeaseToken));
        Assert.False(await groups.SkipAsync(G, C, "s1-chunk000000000", "claim", 0, 7, None));
    }

    [Fact]
    public async Task Reset_rewrites_the_given_chunks_and_leaves_other_silos_chunks_alone()
    {
        var groups = await GroupWithChunksAsync("s1-chunk000000000");
        await groups.MaterializeAsync(G, C, [Row("s2-chunk000000000", 2000)], None);
        await groups.TryLeaseAsync(G, C, "s1-chunk000000000", 0, "t1", "c1", 100, 0, Now + 1000, Now, None);

        await groups.ResetAsync(G, C, "s1", [Row("s1-chunk000000000", 0, acked: 100, done: true)], appliedSeek: 0, None);

        var open = await groups.ListOpenAsync(G, C, None);
        Assert.Equal(["s2-chunk000000000"], open.Select(r => r.Chunk));
        var reset = await groups.GetAsync(G, C, "s1-chunk000000000", None);
        Assert.Equal((100L, (string?)null, true), (reset!.AckedOffset, reset.LeaseToken, reset.Done));
    }

    [Fact]
    public async Task A_reactivated_group_keeps_its_offsets_and_which_seek_each_row_was_positioned_by()
    {
        var groups = fixture.Store(0);
        await groups.EnsureGroupAsync(G, C, "s1", "earliest", Now, None);
        Assert.True(await groups.ResetAsync(G, C, "s1", [Row("s1-chunk000000000", 0)], appliedSeek: 0, None));
        Assert.Equal(1, await groups.TryLeaseAsync(G, C, "s1-chunk000000000", 0, "t1", "c1", 30, 3, Now + 30_000, Now, None));
        Assert.True(await groups.AckAsync(G, C, "s1-chunk000000000", "t1", 30, 3, release: true, None));

        // Every activation goes; the next call loads the group from the database.
        await fixture.Cluster.Client.GetGrain<IManagementGrain>(0).ForceActivationCollection(TimeSpan.Zero);

        // Another silo applying the same seek generation must not move the row back (its generation, 0, was kept).
        Assert.True(await fixture.Store(1).ResetAsync(G, C, "s2", [Row("s1-chunk000000000", 0)], appliedSeek: 0, None));
        var row = await groups.GetAsync(G, C, "s1-chunk000000000", None);
        Assert.Equal((30L, 3L, (string?)null), (row!.AckedOffset, row.AckedMessages, row.LeaseToken));
        Assert.Equal(0, (await groups.EnsureGroupAsync(G, C, "s1", "earliest", Now, None)).AppliedSeek);
    }

    [Fact]
    public async Task Finished_history_is_forgotten_below_the_watermark_and_never_comes_back()
    {
        var groups = fixture.Store(0);
        await groups.EnsureGroupAsync(G, C, "s1", "earliest", Now, None);
        // A thousand finished chunks from an hour ago, then one open chunk of now.
        var old = Enumerable.Range(0, 1000).Select(i => new GroupPosition($"s1-chunk{i:000000000}", Now - 3_600_000 + i, 100, 10, Done: true)).ToList();
        await groups.MaterializeAsync(G, C, [.. old, Row("s1-chunk000001000", 0)], None);
        var first = await groups.TryLeaseAsync(G, C, "s1-chunk000001000", 0, "t", "c", 10, 1, Now + 1000, Now, None);
        Assert.Equal(1, first);
        Assert.True(await groups.AckAsync(G, C, "s1-chunk000001000", "t", 10, 1, release: true, None));
        await groups.MarkDoneAsync(G, C, "s1-chunk000001000", 10, None); // compaction runs; the recent one stays (clock-skew allowance)

        Assert.Null(await groups.GetAsync(G, C, "s1-chunk000000500", None));
        Assert.True((await groups.GetAsync(G, C, "s1-chunk000001000", None))!.Done);
        // Handing the old chunks over again (a silo that just started) does not bring them back.
        await fixture.Store(1).MaterializeAsync(G, C, old.Select(r => r with { Done = false, AckedOffset = 0 }).ToList(), None);
        Assert.Empty(await groups.ListOpenAsync(G, C, None));
    }
}
