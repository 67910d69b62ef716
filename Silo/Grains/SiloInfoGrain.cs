using OrleansBus.Contracts.Grains;
using OrleansBus.Silo.Cluster;
using OrleansBus.Silo.Placement;

namespace OrleansBus.Silo.Grains;

/// <summary><see cref="ISiloInfoGrain"/>: answers from the silo it is pinned to, with that silo's own address and epoch.</summary>
[SiloPinnedPlacement]
public sealed class SiloInfoGrain(Membership membership) : Grain, ISiloInfoGrain
{
    public Task<SiloEndpoint> GetEndpointAsync() => Task.FromResult(new SiloEndpoint(membership.SiloId, membership.Address, membership.Epoch));
}
