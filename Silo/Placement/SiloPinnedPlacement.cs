using Orleans.Placement;
using Orleans.Runtime;
using Orleans.Runtime.Placement;
using OrleansBus.Contracts.Grains;

namespace OrleansBus.Silo.Placement;

/// <summary>
/// Placement for grains whose state is a silo's local disk (<see cref="IChunkWriterGrain"/>): the key ends in
/// <c>/{silo}</c> (<see cref="GrainKeys"/>) and the grain is activated on the Active member with that silo name, or
/// nowhere. Orleans' built-in role placement cannot do this (it matches the whole key against the entry assembly's name).
/// </summary>
[Serializable, GenerateSerializer, Immutable, Alias("orleansbus.SiloPinnedPlacement")]
public sealed class SiloPinnedPlacement : PlacementStrategy
{
    internal static readonly SiloPinnedPlacement Instance = new();
}

/// <summary>Marks a grain class as <see cref="SiloPinnedPlacement"/>.</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false)]
public sealed class SiloPinnedPlacementAttribute : PlacementAttribute
{
    public SiloPinnedPlacementAttribute()
        : base(SiloPinnedPlacement.Instance)
    {
    }
}

/// <summary>
/// Chooses the Active silo the key names, from this silo's membership view. Throws <see cref="PinnedSiloUnavailableException"/>
/// (serializable, code <c>silo_unavailable</c>) when that silo is not Active (dead, stopping, or unknown): the grain is
/// never placed elsewhere, because its chunks are on that silo's disk. Stateless, thread safe.
/// </summary>
public sealed class SiloPinnedPlacementDirector(IClusterMembershipService membership) : IPlacementDirector
{
    public Task<SiloAddress> OnAddActivation(PlacementStrategy strategy, PlacementTarget target, IPlacementContext context)
    {
        var key = target.GrainIdentity.Key.ToString() ?? "";
        var silo = GrainKeys.PinnedSilo(key)
            ?? throw new PinnedSiloUnavailableException($"Grain {target.GrainIdentity}: key '{key}' names no silo (expected '<name>/<silo>').");
        var compatible = context.GetCompatibleSilos(target);
        foreach (var member in membership.CurrentSnapshot.Members.Values)
        {
            if (member.Status == SiloStatus.Active
                && string.Equals(member.Name, silo, StringComparison.Ordinal)
                && Array.IndexOf(compatible, member.SiloAddress) >= 0)
            {
                return Task.FromResult(member.SiloAddress);
            }
        }
        throw new PinnedSiloUnavailableException(silo, target.GrainIdentity.ToString());
    }
}
