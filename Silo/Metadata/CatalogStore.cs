using OrleansBus.Contracts.Grains;
using OrleansBus.Silo.Cluster;

namespace OrleansBus.Silo.Metadata;

/// <summary>
/// The metadata store as the rest of the silo sees it: a category's settings and chunk rows are read and written through
/// its <see cref="ICategoryGrain"/> (the one writer, answering from memory and pushing changes to every silo);
/// replica placement goes straight to the database (<see cref="DatabaseKey"/>). The engine
/// keeps talking to <see cref="IMetadataStore"/> and does not know the difference. A grain call that fails (its silo went
/// away, a timeout) surfaces as <see cref="MetadataStoreException"/>, which every caller already treats as "the catalog
/// is unavailable, retry".
/// </summary>
public sealed class CatalogStore(IMetadataStore database, IGrainFactory grains) : IMetadataStore, IClusterStore
{
    /// <summary>DI key of the database itself, which only the category grain and this class use.</summary>
    public const string DatabaseKey = "catalog-database";

    public IClusterStore Cluster => this;

    public Task MigrateAsync(CancellationToken cancellationToken) => database.MigrateAsync(cancellationToken);

    /// <summary>The names from the database's index, each one's settings from its grain (the settings' owner).</summary>
    public async Task<IReadOnlyList<CategoryRecord>> ListCategoriesAsync(CancellationToken cancellationToken)
    {
        var names = await database.ListCategoriesAsync(cancellationToken);
        var settings = await Task.WhenAll(names.Select(n => GetCategoryAsync(n.Name, cancellationToken)));
        return [.. settings.OfType<CategoryRecord>()];
    }

    public async Task<CategoryRecord?> GetCategoryAsync(string name, CancellationToken cancellationToken) =>
        await CallAsync(name, g => g.GetSettingsAsync()) is { } settings ? Grains.CategoryGrain.ToRecord(settings) : null;

    public async Task<CategoryRecord> EnsureCategoryAsync(CategoryRecord defaults, CancellationToken cancellationToken) =>
        Grains.CategoryGrain.ToRecord(await CallAsync(defaults.Name, g => g.EnsureAsync(Grains.CategoryGrain.ToSettings(defaults))));

    public Task PutCategoryAsync(CategoryRecord record, CancellationToken cancellationToken) =>
        CallAsync(record.Name, g => g.PutSettingsAsync(Grains.CategoryGrain.ToSettings(record)));

    public Task<bool> DeleteCategoryAsync(string name, CancellationToken cancellationToken) => CallAsync(name, g => g.RemoveAsync());

    // Only the category grain marks its row (through the database itself).
    public Task MarkCategoryDeletingAsync(string name, long atMs, CancellationToken cancellationToken) =>
        throw new NotSupportedException("The category grain marks a deletion; ask it to delete (ICategoryGrain.StartDeletionAsync).");

    public Task<long> NextChunkSequenceAsync(string owner, string category, CancellationToken cancellationToken) =>
        CallAsync(category, g => g.NextSequenceAsync(owner));

    public Task AddChunkAsync(ChunkRecord chunk, CancellationToken cancellationToken) =>
        CallAsync(chunk.Category, async g => { await g.AddChunkAsync(ToCatalog(chunk)); return true; });

    public Task<bool> UpdateChunkAsync(string category, string name, string state, long size, long messages, DateTimeOffset? sealedAt, CancellationToken cancellationToken) =>
        CallAsync(category, g => g.UpdateChunkAsync(name, state, size, messages, sealedAt?.ToUnixTimeMilliseconds()));

    public async Task<IReadOnlyList<ChunkRecord>> ListChunksAsync(string category, CancellationToken cancellationToken)
    {
        var rows = await CallAsync(category, g => g.ListChunksAsync());
        return Array.ConvertAll(rows, ToRecord);
    }

    public Task AddReplicaAsync(string category, string chunk, string siloId, CancellationToken cancellationToken) =>
        database.Cluster.AddReplicaAsync(category, chunk, siloId, cancellationToken);

    public Task<IReadOnlyList<(string Chunk, string SiloId)>> ListReplicasAsync(string category, CancellationToken cancellationToken) =>
        database.Cluster.ListReplicasAsync(category, cancellationToken);

    public Task<bool> SealForOwnerAsync(string category, string chunk, long size, long messages, string sealedBy, long sealedAtMs, CancellationToken cancellationToken) =>
        CallAsync(category, g => g.SealForOwnerAsync(chunk, size, messages, sealedBy, sealedAtMs));

    // The container disposes the database itself (registered on its own).
    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    private async Task<T> CallAsync<T>(string category, Func<ICategoryGrain, Task<T>> call)
    {
        try
        {
            // Rejected before delivery (a peer died holding the grain or its directory entry): sent again, never twice applied.
            return await RejectedCallRetry.RunAsync(() => call(grains.GetGrain<ICategoryGrain>(category)));
        }
        catch (Exception e) when (e is not MetadataStoreException)
        {
            // A category being deleted stays inside (callers catch this type); the HTTP edge finds it and answers 409.
            throw new MetadataStoreException(e is CategoryDeletingException ? e.Message : $"The catalog of {category} is unavailable: {e.Message}", e);
        }
    }

    internal static CatalogChunk ToCatalog(ChunkRecord row) => new(
        row.Category, row.Name, row.Owner, row.Seq, row.State, row.Size, row.Messages, row.CreatedAt.ToUnixTimeMilliseconds(),
        row.SealedAt?.ToUnixTimeMilliseconds(), row.SealedBy);

    internal static ChunkRecord ToRecord(CatalogChunk row) => new(
        row.Category, row.Name, row.Owner, row.Seq, row.State, row.Size, row.Messages, DateTimeOffset.FromUnixTimeMilliseconds(row.CreatedAtMs),
        row.SealedAtMs is { } ms ? DateTimeOffset.FromUnixTimeMilliseconds(ms) : null, row.SealedBy);
}
