using OrleansBus.Contracts;
using OrleansBus.Silo.Metadata;
using OrleansBus.Silo.Storage;

namespace OrleansBus.Silo.Api;

/// <summary><c>GET /v1/categories</c>, <c>GET/PUT /v1/categories/{c}</c>: list and settings.</summary>
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

    public static IResult Get(string category, LogStore store)
    {
        if (!CategoryName.IsValid(category))
            return BusErrors.InvalidCategoryName(category);
        var log = store.Find(category);
        return log is null ? BusErrors.CategoryNotFound(category) : Results.Json(ToInfo(log.Settings), BusJsonContext.Default.CategoryInfo);
    }

    public static async Task<IResult> PutAsync(HttpContext http, string category, LogStore store)
    {
        if (!CategoryName.IsValid(category))
            return BusErrors.InvalidCategoryName(category);
        CategorySettingsUpdate? update;
        try
        {
            update = http.Request.ContentLength == 0
                ? new CategorySettingsUpdate(null, null, null)
                : await http.Request.ReadFromJsonAsync(BusJsonContext.Default.CategorySettingsUpdate, http.RequestAborted);
        }
        catch (System.Text.Json.JsonException e)
        {
            return BusErrors.InvalidArgument("body", null, "a JSON object with maxChunkBytes, maxChunkAgeMs, defaultDurability: " + e.Message);
        }
        catch (InvalidOperationException e)
        {
            return BusErrors.InvalidArgument("content-type", http.Request.ContentType, "application/json: " + e.Message);
        }
        update ??= new CategorySettingsUpdate(null, null, null);
        if (update.MaxChunkBytes is < MinChunkBytes)
            return BusErrors.InvalidArgument("maxChunkBytes", update.MaxChunkBytes.ToString(), $"at least {MinChunkBytes}");
        if (update.MaxChunkAgeMs is < MinChunkAgeMs)
            return BusErrors.InvalidArgument("maxChunkAgeMs", update.MaxChunkAgeMs.ToString(), $"at least {MinChunkAgeMs}");
        if (update.DefaultDurability is not null && !DurabilityNames.TryParse(update.DefaultDurability, out _))
            return BusErrors.InvalidArgument("defaultDurability", update.DefaultDurability, "one of page-cache, fsync");

        var current = store.Find(category)?.Settings ?? store.DefaultSettings(category);
        var next = current with
        {
            MaxChunkBytes = update.MaxChunkBytes ?? current.MaxChunkBytes,
            MaxChunkAgeMs = update.MaxChunkAgeMs ?? current.MaxChunkAgeMs,
            DefaultDurability = update.DefaultDurability ?? current.DefaultDurability,
        };
        var log = await store.PutSettingsAsync(next, http.RequestAborted);
        return Results.Json(ToInfo(log.Settings), BusJsonContext.Default.CategoryInfo);
    }

    private static CategoryInfo ToInfo(CategoryRecord settings) =>
        new(settings.Name, settings.MaxChunkBytes, settings.MaxChunkAgeMs, settings.DefaultDurability);
}
