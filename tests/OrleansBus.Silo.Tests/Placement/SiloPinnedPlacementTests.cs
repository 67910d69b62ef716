using Orleans.Runtime;
using Orleans.TestingHost;
using OrleansBus.Contracts.Grains;
using OrleansBus.Silo.Placement;

namespace OrleansBus.Silo.Tests.Placement;

/// <summary>A grain with the chunk writer's placement that says where it runs.</summary>
[Alias("orleansbus.tests.IPinnedProbeGrain")]
public interface IPinnedProbeGrain : IGrainWithStringKey
{
    [Alias("where")]
    Task<string> WhereAsync();
}

[SiloPinnedPlacement]
public sealed class PinnedProbeGrain(ILocalSiloDetails silo) : Grain, IPinnedProbeGrain
{
    public Task<string> WhereAsync() => Task.FromResult(silo.Name);
}

/// <summary>
/// <see cref="SiloPinnedPlacementDirector"/> in a three-silo in-process cluster (Orleans' TestingHost): a grain keyed
/// <c>{name}/{silo}</c> activates on that silo whichever silo the call enters by, and on no other silo when that one is down.
/// </summary>
public sealed class SiloPinnedPlacementTests : IAsyncLifetime
{
    private InProcessTestCluster _cluster = null!;

    public async Task InitializeAsync()
    {
        var builder = new InProcessTestClusterBuilder(3);
        builder.ConfigureSilo((_, silo) => silo.AddPlacementDirector<SiloPinnedPlacement, SiloPinnedPlacementDirector>());
        _cluster = builder.Build();
        await _cluster.DeployAsync();
    }

    public async Task DisposeAsync() => await _cluster.DisposeAsync();

    [Fact]
    public async Task A_pinned_grain_activates_on_the_silo_its_key_names()
    {
        foreach (var silo in _cluster.Silos)
        {
            for (var i = 0; i < 5; i++)
            {
                var grain = _cluster.Client.GetGrain<IPinnedProbeGrain>(GrainKeys.ChunkWriter($"cat{i}", silo.Name));
                Assert.Equal(silo.Name, await grain.WhereAsync());
            }
        }
    }

    [Fact]
    public async Task A_grain_pinned_to_a_stopped_silo_is_refused_and_never_placed_elsewhere()
    {
        var victim = _cluster.Silos[^1];
        var name = victim.Name;
        await _cluster.StopSiloAsync(victim);
        await _cluster.WaitForLivenessToStabilizeAsync();

        var grain = _cluster.Client.GetGrain<IPinnedProbeGrain>(GrainKeys.ChunkWriter("orders", name));
        var refused = await Assert.ThrowsAsync<PinnedSiloUnavailableException>(grain.WhereAsync);
        Assert.Equal(name, refused.Silo);
        Assert.Contains(name, refused.Message, StringComparison.Ordinal);

        // The live silos still place their own grains.
        var live = _cluster.Silos[0].Name;
        Assert.Equal(live, await _cluster.Client.GetGrain<IPinnedProbeGrain>(GrainKeys.ChunkWriter("orders", live)).WhereAsync());
    }

    [Fact]
    public async Task A_key_without_a_silo_part_is_refused()
    {
        var grain = _cluster.Client.GetGrain<IPinnedProbeGrain>("no-silo-here");
        await Assert.ThrowsAsync<PinnedSiloUnavailableException>(grain.WhereAsync);
    }
}
