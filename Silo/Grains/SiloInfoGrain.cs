using OrleansBus.Contracts.Grains;
using OrleansBus.Silo.Cluster;
using OrleansBus.Silo.Placement;
using OrleansBus.Silo.Storage;

namespace OrleansBus.Silo.Grains;

/// <summary><see cref="ISiloInfoGrain"/>: answers from the silo it is pinned to, with that silo's own address and epoch.</summary>
[SiloPinnedPlacement]
public sealed partial class SiloInfoGrain(Membership membership, LogStore store, ILogger<SiloInfoGrain> logger) : Grain, ISiloInfoGrain
{
    public Task<SiloEndpoint> GetEndpointAsync() => Task.FromResult(new SiloEndpoint(membership.SiloId, membership.Address, membership.Epoch));

    public Task DropCategoryAsync(string category)
    {
        // Writes stop before this returns; the files go in the background, and the grain hears when they are gone.
        var files = store.Drop(category);
        var grains = GrainFactory;
        _ = Task.Run(async () =>
        {
            try
            {
                await files;
                await grains.GetGrain<ICategoryGrain>(category).SiloDroppedAsync(membership.SiloId);
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                LogDropNotConfirmed(logger, e, category); // the grain asks again next step
            }
        });
        return Task.CompletedTask;
    }

    [LoggerMessage(LogLevel.Warning, "Dropping deleted category {Category} here did not finish or could not be confirmed; the category grain asks again")]
    private static partial void LogDropNotConfirmed(ILogger logger, Exception exception, string category);
}
