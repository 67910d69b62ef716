using Orleans.Concurrency;
using OrleansBus.Contracts.Grains;
using OrleansBus.Silo.Cluster;

namespace OrleansBus.Silo.Grains;

/// <summary><see cref="IClusterDirectoryGrain"/>: this silo's <see cref="Membership"/> view of the live silos.</summary>
[StatelessWorker]
public sealed class ClusterDirectoryGrain(Membership membership) : Grain, IClusterDirectoryGrain
{
    public Task<SiloEndpoint[]> GetLiveSilosAsync()
    {
        var live = new List<SiloEndpoint> { new(membership.SiloId, membership.Address, membership.Epoch) };
        foreach (var member in membership.Members)
        {
            if (!member.Self && member.IsLive)
                live.Add(new SiloEndpoint(member.SiloId, member.Address!, member.Epoch));
        }
        return Task.FromResult(live.ToArray());
    }
}
