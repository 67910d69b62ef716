namespace OrleansBus.Contracts.Grains;

/// <summary>
/// Answers for one silo: its HTTP address and epoch. Keyed <see cref="GrainKeys.SiloInfo"/> and pinned to that silo, so
/// asking it is asking the silo itself (a dead silo answers nothing: the call fails with
/// <see cref="PinnedSiloUnavailableException"/>). This is how silos and the gateway find each other's HTTP endpoints
/// through Orleans.
/// </summary>
[Alias("orleansbus.ISiloInfoGrain")]
public interface ISiloInfoGrain : IGrainWithStringKey
{
    /// <summary>Where this silo's HTTP API is.</summary>
    [Alias("endpoint")]
    Task<SiloEndpoint> GetEndpointAsync();

    /// <summary>
    /// The category is being deleted: this silo stops taking writes for it before answering, then deletes its files of
    /// it (chunks, copies, downloads) and tells the category grain (<see cref="ICategoryGrain.SiloDroppedAsync"/>).
    /// Idempotent: a silo without the category answers the grain at once.
    /// </summary>
    [Alias("drop-category")]
    Task DropCategoryAsync(string category);
}

/// <summary>
/// Live silos as the silo that answers sees them (Orleans membership plus each one's HTTP address). A stateless worker:
/// it runs on whichever silo the caller reaches, so it answers as long as any silo does.
/// </summary>
[Alias("orleansbus.IClusterDirectoryGrain")]
public interface IClusterDirectoryGrain : IGrainWithIntegerKey
{
    /// <summary>Every Active silo whose HTTP address is known, the answering silo included.</summary>
    [Alias("live")]
    Task<SiloEndpoint[]> GetLiveSilosAsync();
}

/// <summary>A silo's name (the owner part of its chunk names), its HTTP base URL and its epoch (Orleans generation).</summary>
[GenerateSerializer, Immutable, Alias("orleansbus.SiloEndpoint")]
public sealed record SiloEndpoint([property: Id(0)] string SiloId, [property: Id(1)] string Address, [property: Id(2)] long Epoch);
