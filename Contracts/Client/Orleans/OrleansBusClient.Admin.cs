using OrleansBus.Contracts;
using OrleansBus.Contracts.Grains;

namespace OrleansBus.Client;

public sealed partial class OrleansBusClient
{
    /// <inheritdoc cref="BusClient.ListCategoriesAsync"/>
    public async Task<IReadOnlyList<CategoryInfo>> ListCategoriesAsync(CancellationToken cancellationToken = default) =>
        await AskAsync("a category listing", door => door.ListCategoriesAsync(), cancellationToken);

    /// <inheritdoc cref="BusClient.GetCategoryAsync"/>
    public Task<CategoryInfo> GetCategoryAsync(string category, CancellationToken cancellationToken = default)
    {
        BusClient.Segment(category, "category");
        return AskAsync("a category's settings", door => door.GetCategoryAsync(category), cancellationToken);
    }

    /// <inheritdoc cref="BusClient.PutCategoryAsync"/>
    public Task<CategoryInfo> PutCategoryAsync(string category, CategorySettingsUpdate settings, CancellationToken cancellationToken = default)
    {
        BusClient.Segment(category, "category");
        ArgumentNullException.ThrowIfNull(settings);
        return AskAsync("a settings change", door => door.PutCategoryAsync(category, settings), cancellationToken);
    }

    /// <inheritdoc cref="BusClient.DeleteCategoryAsync"/>
    public Task<CategoryInfo> DeleteCategoryAsync(string category, CancellationToken cancellationToken = default)
    {
        BusClient.Segment(category, "category");
        return AskAsync("a category deletion", door => door.DeleteCategoryAsync(category), cancellationToken);
    }

    /// <inheritdoc cref="BusClient.ListChunksAsync"/>
    public async Task<IReadOnlyList<ChunkInfo>> ListChunksAsync(string category, CancellationToken cancellationToken = default)
    {
        BusClient.Segment(category, "category");
        return await AskAsync("a chunk listing", door => door.ListChunksAsync(category), cancellationToken);
    }

    /// <inheritdoc cref="BusClient.GetGroupAsync"/>
    public Task<GroupInfo> GetGroupAsync(string category, string group, CancellationToken cancellationToken = default)
    {
        BusClient.Segment(category, "category");
        BusClient.Segment(group, "group");
        return AskAsync("a group's lag", door => door.GetGroupAsync(category, group), cancellationToken);
    }

    /// <inheritdoc cref="BusClient.SeekAsync(string, string, SeekPosition, CancellationToken)"/>
    public Task<GroupInfo> SeekAsync(string category, string group, SeekPosition position, CancellationToken cancellationToken = default) =>
        SeekAsync(category, group, new SeekRequest(Position: position == SeekPosition.Latest ? "latest" : "earliest"), cancellationToken);

    /// <inheritdoc cref="BusClient.SeekAsync(string, string, DateTimeOffset, CancellationToken)"/>
    public Task<GroupInfo> SeekAsync(string category, string group, DateTimeOffset time, CancellationToken cancellationToken = default) =>
        SeekAsync(category, group, new SeekRequest(Time: time), cancellationToken);

    private Task<GroupInfo> SeekAsync(string category, string group, SeekRequest seek, CancellationToken cancellationToken)
    {
        BusClient.Segment(category, "category");
        BusClient.Segment(group, "group");
        return AskAsync("a seek", door => door.SeekAsync(category, group, seek), cancellationToken);
    }

    /// <summary>One control call: sent again through another key if Orleans rejected it or a silo was not ready; a refusal becomes the typed exception.</summary>
    private async Task<T> AskAsync<T>(string what, Func<IBusEdgeGrain, Task<EdgeReply<T>>> call, CancellationToken cancellationToken)
    {
        for (var attempt = 0; ; attempt++)
        {
            var reply = await CallAsync(what, call, attempt, cancellationToken);
            if (reply is null)
                continue; // rejected before any silo ran it
            if (reply.Fault is { } fault)
            {
                if (fault.Code == BusErrorCodes.NotReady && attempt == 0)
                    continue;
                throw ToException(fault);
            }
            return reply.Value!;
        }
    }
}
