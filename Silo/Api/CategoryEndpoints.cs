using OrleansBus.Contracts;
using OrleansBus.Contracts.Grains;
using OrleansBus.Silo.Metadata;
using OrleansBus.Silo.Storage;

namespace OrleansBus.Silo.Api;

/// <summary><c>GET /v1/categories</c>, <c>GET/PUT/DELETE /v1/categories/{c}</c>: list, settings, deletion.</summary>
public static class CategoryEndpoints
{
    private const long MinChunkBytes = 1024;
    private const long MinChunkAgeMs = 100;

    public static async Task<IResult> ListAsync(
        LogStore store, [FromKeyedServices(CatalogStore.DatabaseKey)] IMetadataStore database, CancellationToken cancellationToken)
    {
        // Categories other silos created (the shared index of names) are opened here too, so every silo lists the same
        // set. The names come straight from the database: the settings are read only for categories not yet open here.
        foreach (var category in await database.ListCategoriesAsync(cancellationToken))
        {
            if (store.Find(category.Name) is null)
                await store.FindOrOpenAsync(category.Name, cancellationToken);
        }
        var logs = store.All();
        var infos = new CategoryInfo[logs.Count];
        for (var i = 0; i < logs.Count; i++)
            infos[i] = ToInfo(logs[i].Settings);
        return Results.Json(infos, BusJsonContext.Default.CategoryInfoArray);
    }

    public static async Task<IResult> GetAsync(string category, LogStore store, IGrainFactory grains, CancellationToken cancellationToken)
    {
        if (!CategoryName.IsValid(category))
            return BusErrors.InvalidCategoryName(category);
        // Also a category another silo created: any silo (and the gateway's pick of one) answers the same.
        if (await store.FindOrOpenAsync(category, cancellationToken) is { } log)
            return Results.Json(ToInfo(log.Settings), BusJsonContext.Default.CategoryInfo);
        // Not live: being deleted (its grain says how far), or not there at all.
        var deletion = await RejectedCallRetry.RunAsync(() => grains.GetGrain<ICategoryGrain>(category).GetDeletionAsync(), cancellationToken: cancellationToken);
        return deletion is null ? BusErrors.CategoryNotFound(category) : Results.Json(ToInfo(deletion), BusJsonContext.Default.CategoryInfo);
    }

    /// <summary>
    /// <c>DELETE /v1/categories/{c}</c>: 202 with the deletion's state once every reachable silo refuses writes (the rest —
    /// files, groups, blobs, rows — follows in the background; GET answers <c>deleting</c> until it is done, then 404);
    /// again while it runs: 202 with the same state; an unknown category: 404.
    /// </summary>
    public static async Task<IResult> DeleteAsync(string category, IGrainFactory grains)
    {
        if (!CategoryName.IsValid(category))
            return BusErrors.InvalidCategoryName(category);
        var deletion = await RejectedCallRetry.RunAsync(() => grains.GetGrain<ICategoryGrain>(category).StartDeletionAsync());
        return deletion is null
            ? BusErrors.CategoryNotFound(category)
            : Results.Json(ToInfo(deletion), BusJsonContext.Default.CategoryInfo, statusCode: StatusCodes.Status202Accepted);
    }

    private static CategoryInfo ToInfo(CategoryDeletion deletion) =>
        ToInfo(Grains.CategoryGrain.ToRecord(deletion.Settings)) with
        {
            State = CategoryStates.Deleting,
            Deletion = new CategoryDeletionInfo(deletion.StartedAtMs, deletion.SilosPending, deletion.GroupsLeft, deletion.ChunksLeft),
        };

    public static async Task<IResult> PutAsync(HttpContext http, string category, LogStore store)
    {
        if (!CategoryName.IsValid(category))
            return BusErrors.InvalidCategoryName(category);
        var (update, error) = await RequestBodies.ReadSettingsAsync(http.Request.Body, http.Request.ContentLength, http.Request.ContentType,
            BusJsonContext.Default.CategorySettingsUpdate, http.RequestAborted);
        if (error is not null)
            return BusErrors.Problem(error);
        return await ApplySettingsAsync(category, update!, store, http.RequestAborted);
    }

    /// <summary>Checks <paramref name="update"/> whole, then creates the category or changes its settings.</summary>
    public static async Task<IResult> ApplySettingsAsync(string category, CategorySettingsUpdate update, LogStore store, CancellationToken cancellationToken)
    {
        if (!CategoryName.IsValid(category))
            return BusErrors.InvalidCategoryName(category);
        if (update.MaxChunkBytes is < MinChunkBytes)
            return BusErrors.InvalidArgument("maxChunkBytes", update.MaxChunkBytes.ToString(), $"at least {MinChunkBytes}");
        if (update.MaxChunkAgeMs is < MinChunkAgeMs)
            return BusErrors.InvalidArgument("maxChunkAgeMs", update.MaxChunkAgeMs.ToString(), $"at least {MinChunkAgeMs}");
        if (update.DefaultDurability is not null && !DurabilityNames.TryParse(update.DefaultDurability, out _))
            return BusErrors.InvalidArgument("defaultDurability", update.DefaultDurability, "one of page-cache, fsync");
        if (update.RetentionMs is < 0)
            return BusErrors.InvalidArgument("retentionMs", update.RetentionMs.ToString(), "0 (keep for ever) or more milliseconds");
        if (update.RetentionBytes is < 0)
            return BusErrors.InvalidArgument("retentionBytes", update.RetentionBytes.ToString(), "0 (no size limit) or more bytes");

        var current = store.Find(category)?.Settings ?? store.DefaultSettings(category);
        var next = current with
        {
            MaxChunkBytes = update.MaxChunkBytes ?? current.MaxChunkBytes,
            MaxChunkAgeMs = update.MaxChunkAgeMs ?? current.MaxChunkAgeMs,
            DefaultDurability = update.DefaultDurability ?? current.DefaultDurability,
            RetentionMs = update.RetentionMs ?? current.RetentionMs,
            RetentionBytes = update.RetentionBytes ?? current.RetentionBytes,
        };
        var log = await store.PutSettingsAsync(next, cancellationToken);
        var info = ToInfo(log.Settings);
        if (category.EndsWith(Groups.ConsumerGroups.DeadLetterSuffix, StringComparison.Ordinal) && (info.RetentionMs > 0 || info.RetentionBytes > 0))
        {
            // Allowed (a dead-letter category can fill a disk too), but its messages were never delivered: say what this does.
            info = info with { Warning = $"{category} holds messages no consumer could process; retention deletes them whether anyone looked at them or not." };
        }
        return Results.Json(info, BusJsonContext.Default.CategoryInfo);
    }

    private static CategoryInfo ToInfo(CategoryRecord settings) =>
        new(settings.Name, settings.MaxChunkBytes, settings.MaxChunkAgeMs, settings.DefaultDurability, settings.RetentionMs, settings.RetentionBytes);
}
