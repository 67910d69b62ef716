using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Orleans.TestingHost;
using OrleansBus.Silo.Groups;
using OrleansBus.Silo.Metadata;
using OrleansBus.Silo.Tests.Metadata;
using OrleansBus.Testing;

namespace OrleansBus.Silo.Tests.Groups;

/// <summary>
/// Two clusters that share a ServiceId and one PostgreSQL schema (a misconfiguration, or a partition with two sides
/// serving) each activate the same group: the state's ETag detects the second writer, that activation stops serving and
/// answers lease lost, and no range is acknowledged twice.
/// </summary>
public sealed class TwoActivationsTests(PostgresMetadataDatabase database) : IClassFixture<PostgresMetadataDatabase>, IAsyncLifetime
{
    private const string C = "orders";
    private const string G = "billing";
    private const string Chunk = "s1-chunk000000000";
    private static readonly CancellationToken None = CancellationToken.None;
    private readonly string _schema = $"t_{Guid.NewGuid():N}";
    private readonly string _serviceId = "svc" + Guid.NewGuid().ToString("N")[..8];
    private PostgresMetadataStore _store = null!;
    private InProcessTestCluster _a = null!;
    private InProcessTestCluster _b = null!;

    public async Task InitializeAsync()
    {
        _store = new PostgresMetadataStore(database.ConnectionString, _schema);
        await _store.MigrateAsync(None);
        _a = await StartClusterAsync();
        _b = await StartClusterAsync();
    }

    private async Task<InProcessTestCluster> StartClusterAsync()
    {
        var connectionString = new NpgsqlConnectionStringBuilder(database.ConnectionString) { SearchPath = $"\"{_schema}\"" }.ConnectionString;
        var builder = new InProcessTestClusterBuilder(1);
        builder.Options.ServiceId = _serviceId; // the same service: grain state rows are keyed by it
        builder.ConfigureSilo((_, silo) =>
        {
            silo.AddAdoNetGrainStorage(OrleansBus.Silo.Hosting.OrleansSetup.GroupStorageName, o =>
            {
                o.Invariant = "Npgsql";
                o.ConnectionString = connectionString;
            });
            silo.Services.AddKeyedSingleton<IMetadataStore>(CatalogStore.DatabaseKey, _store);
            silo.Services.AddSingleton(TimeProvider.System);
            silo.Services.AddSingleton<LegacyGroupTables>();
        });
        var cluster = builder.Build();
        await cluster.DeployAsync();
        return cluster;
    }

    private static IGroupStore Store(InProcessTestCluster cluster) =>
        new GrainGroupStore(cluster.Silos[0].ServiceProvider.GetRequiredService<IGrainFactory>());

    [Fact]
    public async Task The_activation_whose_write_conflicts_stops_serving_and_no_range_is_acknowledged_twice()
    {
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        var a = Store(_a);
        var b = Store(_b);
        await a.EnsureGroupAsync(G, C, "s1", "earliest", now, None);
        await a.MaterializeAsync(G, C, [new GroupPosition(Chunk, now, 0, 0, false)], None);
        Assert.NotNull(await a.TryLeaseAsync(G, C, Chunk, 0, "a1", "ca", 100, 10, now + 30_000, now, None));
        Assert.True(await a.AckAsync(G, C, Chunk, "a1", 100, 10, release: true, None));

        // B's activation loads what A made durable, and moves on from there.
        Assert.Equal(100, (await b.GetAsync(G, C, Chunk, None))!.AckedOffset);
        Assert.NotNull(await b.TryLeaseAsync(G, C, Chunk, 100, "b1", "cb", 200, 10, now + 30_000, now, None));
        Assert.True(await b.AckAsync(G, C, Chunk, "b1", 200, 10, release: true, None));

        // A still believes the group is at 100: it may hand out [100, 200) again, but its ack cannot become durable.
        Assert.NotNull(await a.TryLeaseAsync(G, C, Chunk, 100, "a2", "ca", 200, 10, now + 30_000, now, None));
        Assert.False(await a.AckAsync(G, C, Chunk, "a2", 200, 10, release: true, None)); // 409 lease_lost at the edge

        // What is durable is B's: each range acknowledged once. A's next activation reloads it.
        var reloaded = await WaitForAsync(async () =>
        {
            try
            {
                return await a.GetAsync(G, C, Chunk, None);
            }
            catch (MetadataStoreException)
            {
                return null; // the superseded activation is still on its way out
            }
        });
        Assert.Equal((200L, 20L, (string?)null), (reloaded.AckedOffset, reloaded.AckedMessages, reloaded.LeaseToken));
    }

    private static async Task<GroupChunkRow> WaitForAsync(Func<Task<GroupChunkRow?>> probe)
    {
        for (var i = 0; i < 100; i++)
        {
            if (await probe() is { AckedOffset: 200 } row)
                return row;
            await Task.Delay(100);
        }
        throw new Xunit.Sdk.XunitException("Cluster A never reloaded the group at offset 200 after its write conflicted.");
    }

    public async Task DisposeAsync()
    {
        await _a.DisposeAsync();
        await _b.DisposeAsync();
        await _store.DisposeAsync();
    }
}
