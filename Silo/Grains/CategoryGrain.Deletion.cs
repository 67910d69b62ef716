using OrleansBus.Contracts.Grains;
using OrleansBus.Silo.Archive;
using OrleansBus.Silo.Metadata;

namespace OrleansBus.Silo.Grains;

/// <summary>Persisted progress of a category deletion (the silos that dropped it are kept in memory: asking again is harmless).</summary>
[GenerateSerializer, Alias("orleansbus.CategoryDeletionState")]
public sealed class CategoryDeletionState
{
    [Id(0)]
    public long StartedAtMs { get; set; }
}

/// <summary>
/// Deleting a category, in steps that each may be repeated, so a deletion interrupted anywhere (this grain's silo died,
/// the archive is down) finishes when the grain runs again and never brings data back:
/// <list type="number">
/// <item>the grain state says deleting (from then on no chunk, sequence, settings or group is created: 409) and the
/// table row is marked, so every silo resumes the deletion through this grain if it moves;</item>
/// <item>every live silo is asked to drop the category — it refuses writes before it answers, then deletes its files and
/// says so (<see cref="SiloDroppedAsync"/>); a silo down now deletes them when it starts (the catalog no longer names
/// the category);</item>
/// <item>every consumer group recorded for the category is deleted;</item>
/// <item>every blob: of the catalog's chunks, of earlier expiries, and whatever the archive lists for the category;</item>
/// <item>the catalog rows and the category row (sequence numbers stay), then the grain state.</item>
/// </list>
/// Each step runs every <c>Bus:DeletionStepInterval</c> (1 s) until all are done.
/// </summary>
public sealed partial class CategoryGrain
{
    private static readonly TimeSpan DropCallTimeout = TimeSpan.FromSeconds(5);
    private readonly HashSet<string> _dropped = new(StringComparer.Ordinal);
    private IGrainTimer? _deletionTimer;

    private bool Deleting => state.State.Deletion is not null;

    public async Task<CategoryDeletion?> StartDeletionAsync()
    {
        if (!Deleting)
        {
            if (await GetSettingsAsync() is null)
                return null;
            var now = time.GetUtcNow().ToUnixTimeMilliseconds();
            // The table's mark first: a mark without a deletion is harmless (no grain finds one to resume), a deletion
            // without its mark could not be resumed by the other silos if this grain's silo died.
            await database.MarkCategoryDeletingAsync(Category, now, CancellationToken.None);
            state.State.Deletion = new CategoryDeletionState { StartedAtMs = now };
            await state.WriteStateAsync();
            ExpireAllInMemory();
            UpdateRetentionTimer();
            LogDeletionStarted(logger, Category, _chunks.Count, state.State.Groups.Count);
            await DropEverywhereAsync(); // before the reply: every reachable silo refuses writes from now on
            StartDeletionTimer();
        }
        return Describe();
    }

    public Task<CategoryDeletion?> GetDeletionAsync() => Task.FromResult(Deleting ? Describe() : null);

    public Task SiloDroppedAsync(string siloId)
    {
        if (Deleting)
            _dropped.Add(siloId);
        return Task.CompletedTask;
    }

    public async Task RegisterGroupAsync(string group)
    {
        ThrowIfDeleting();
        if (state.State.Groups.Contains(group))
            return;
        state.State.Groups.Add(group);
        await state.WriteStateAsync();
    }

    private void ThrowIfDeleting()
    {
        if (Deleting)
            throw CategoryDeletingException.For(Category);
    }

    /// <summary>
    /// Readers of the catalog see every chunk as expired while the category is deleted: a silo's upload that lands now
    /// deletes its own blob, as after an expiry (the rows themselves go in the last step).
    /// </summary>
    private void ExpireAllInMemory()
    {
        foreach (var chunk in _chunks.Values.ToList())
            _chunks[chunk.Name] = chunk with { State = ChunkStates.Expired };
    }

    private void StartDeletionTimer()
    {
        var every = options.Value.DeletionStepInterval;
        _deletionTimer ??= this.RegisterGrainTimer(async _ => await ContinueDeletionAsync(), new GrainTimerCreationOptions(every, every) { KeepAlive = true });
    }

    private async Task ContinueDeletionAsync()
    {
        if (!Deleting || !await DropEverywhereAsync() || !await DeleteGroupsAsync() || !await DeleteBlobsOfCategoryAsync())
            return;
        await database.DeleteCategoryAsync(Category, CancellationToken.None); // chunk rows, replica rows, the category row
        var rows = _chunks.Count;
        _chunks.Clear();
        _dropped.Clear();
        state.State = new CategoryState();
        await state.WriteStateAsync();
        _deletionTimer?.Dispose();
        _deletionTimer = null;
        UpdateRetentionTimer();
        LogDeletionDone(logger, Category, rows);
        this.DeactivateOnIdle();
    }

    /// <summary>Asks every active silo that has not dropped the category yet; true once none is left.</summary>
    private async Task<bool> DropEverywhereAsync()
    {
        var pending = PendingSilos();
        foreach (var silo in pending)
        {
            try
            {
                await GrainFactory.GetGrain<ISiloInfoGrain>(GrainKeys.SiloInfo(silo)).DropCategoryAsync(Category).WaitAsync(DropCallTimeout);
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                LogDropNotDelivered(logger, e, Category, silo); // dead (it deletes at start) or slow: asked again next step
            }
        }
        return PendingSilos().Count == 0;
    }

    /// <summary>Active members (as Orleans sees them, this silo included) that have not said they dropped the category.</summary>
    private List<string> PendingSilos()
    {
        var pending = new List<string>();
        foreach (var member in membership.Members)
        {
            if (member.Status == SiloStatus.Active && !_dropped.Contains(member.SiloId) && !pending.Contains(member.SiloId))
                pending.Add(member.SiloId);
        }
        if (membership.Members.Count == 0 && !_dropped.Contains(membership.SiloId))
            pending.Add(membership.SiloId); // the embedded silo before its first membership snapshot
        pending.Sort(StringComparer.Ordinal);
        return pending;
    }

    private async Task<bool> DeleteGroupsAsync()
    {
        var done = new List<string>();
        var complete = true;
        foreach (var group in state.State.Groups)
        {
            try
            {
                await GrainFactory.GetGrain<IConsumerGroupGrain>(GrainKeys.ConsumerGroup(Category, group)).DeleteAsync();
                done.Add(group);
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                LogGroupNotDeleted(logger, e, Category, group);
                complete = false;
                break; // its silo went away or storage failed: the next step tries the rest
            }
        }
        if (done.Count > 0)
        {
            state.State.Groups.RemoveAll(done.Contains);
            await state.WriteStateAsync();
        }
        return complete;
    }

    /// <summary>Every blob the category may have: its chunks', earlier expiries' and whatever the archive lists under its name.</summary>
    private async Task<bool> DeleteBlobsOfCategoryAsync()
    {
        try
        {
            var names = new HashSet<string>(_chunks.Keys, StringComparer.Ordinal);
            names.UnionWith(state.State.BlobsToDelete);
            foreach (var archived in await archive.ListAsync(Category, CancellationToken.None))
                names.Add(archived.Name);
            foreach (var name in names)
                await archive.DeleteAsync(Category, name, CancellationToken.None);
            return true;
        }
        catch (ArchiveException e)
        {
            LogBlobNotDeleted(logger, e, Category, "(listing or deleting)");
            return false; // the archive is unreachable: the next step tries again
        }
    }

    private CategoryDeletion Describe() => new(
        state.State.Settings!, state.State.Deletion!.StartedAtMs, [.. PendingSilos()], state.State.Groups.Count, _chunks.Count);

    [LoggerMessage(LogLevel.Warning, "Deleting category {Category} ({Chunks} chunks, {Groups} consumer groups)")]
    private static partial void LogDeletionStarted(ILogger logger, string category, int chunks, int groups);

    [LoggerMessage(LogLevel.Warning, "Category {Category} is deleted ({Chunks} chunk rows, their files and blobs, and its consumer groups)")]
    private static partial void LogDeletionDone(ILogger logger, string category, int chunks);

    [LoggerMessage(LogLevel.Information, "Deleting {Category}: silo {Silo} did not take the drop request; asked again next step")]
    private static partial void LogDropNotDelivered(ILogger logger, Exception exception, string category, string silo);

    [LoggerMessage(LogLevel.Warning, "Deleting {Category}: consumer group {Group} could not be deleted yet; tried again next step")]
    private static partial void LogGroupNotDeleted(ILogger logger, Exception exception, string category, string group);
}
