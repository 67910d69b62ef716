using OrleansBus.Contracts.Grains;

namespace OrleansBus.Silo.Grains;

/// <summary>
/// Records each consumer group with its category grain, which deletes them with the category. A silo service (absent
/// where grains run without a silo: the group grain's own tests), so the group grain asks for it by type.
/// </summary>
public sealed partial class GroupRegistration(IGrainFactory grains, ILogger<GroupRegistration> logger)
{
    /// <summary>Records the group; throws <see cref="CategoryDeletingException"/> while its category is deleted.</summary>
    public Task RecordAsync(string groupKey)
    {
        var (category, group) = GrainKeys.SplitConsumerGroup(groupKey);
        return grains.GetGrain<ICategoryGrain>(category).RegisterGroupAsync(group);
    }

    /// <summary>Records a group that already existed; a failure only means the next activation records it.</summary>
    public async Task RecordQuietlyAsync(string groupKey)
    {
        try
        {
            await RecordAsync(groupKey);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            LogNotRecorded(logger, groupKey, e.Message);
        }
    }

    [LoggerMessage(LogLevel.Debug, "Group {Key} was not recorded with its category ({Reason}); its next activation tries again")]
    private static partial void LogNotRecorded(ILogger logger, string key, string reason);
}
