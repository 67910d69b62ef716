using Microsoft.Extensions.Options;
using Orleans.Utilities;
using OrleansBus.Contracts.Grains;
using OrleansBus.Silo.Metadata;

namespace OrleansBus.Silo.Grains;

/// <summary>Persisted state of a <see cref="CategoryGrain"/>: the category's settings (null: the category does not exist).</summary>
[GenerateSerializer, Alias("orleansbus.CategoryState")]
public sealed class CategoryState
{
    [Id(0)]
    public int Version { get; set; } = 1;

    [Id(1)]
    public CategorySettings? Settings { get; set; }

    /// <summary>Chunks retention expired whose blob is not confirmed deleted yet: retried every retention round.</summary>
    [Id(2)]
    public List<string> BlobsToDelete { get; set; } = [];

    /// <summary>Set from <c>DELETE /v1/categories/{c}</c> until the deletion is done (see <see cref="CategoryGrain"/>.Deletion).</summary>
    [Id(3)]
    public CategoryDeletionState? Deletion { get; set; }

    /// <summary>The category's consumer groups, recorded as each is created: what a deletion deletes.</summary>
    [Id(4)]
    public List<string> Groups { get; set; } = [];
}

/// <summary>
/// <see cref="ICategoryGrain"/>: the settings are grain state (Orleans.Persistence.AdoNet: PostgreSQL in a cluster, the
/// embedded silo's SQLite file), ETag-checked on every write; the <c>categories</c> table stays the index of names (and
/// mirrors the settings for tools), written only from here. It loads the category's chunk rows once per activation and from then on is the only
/// writer of them, so its memory is the catalog (listings never touch the database), and every change it commits goes
/// to the subscribed silos at once. Not reentrant: one catalog change at a time, in order, which keeps memory and
/// database in step. The database's conditional updates still decide every contested change (a late seal, two
/// replicas sealing for one dead owner), so even two activations of one category during a partition cannot both win.
/// </summary>
public sealed partial class CategoryGrain(
    [PersistentState("category", Hosting.OrleansSetup.GrainStorageName)] IPersistentState<CategoryState> state,
    [FromKeyedServices(CatalogStore.DatabaseKey)] IMetadataStore database, Cluster.Membership membership,
    Archive.IChunkArchive archive, TimeProvider time, IOptions<Hosting.BusOptions> options,
    ILogger<CategoryGrain> logger) : Grain, ICategoryGrain
{
    private static readonly TimeSpan SubscriptionLifetime = TimeSpan.FromMinutes(3);
    private readonly ObserverManager<ICatalogObserver> _observers = new(SubscriptionLifetime, logger);
    private readonly Dictionary<string, CatalogChunk> _chunks = new(StringComparer.Ordinal);

    private string Category => this.GetPrimaryKeyString();

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        foreach (var row in await database.ListChunksAsync(Category, cancellationToken))
            _chunks[row.Name] = CatalogStore.ToCatalog(row);
        UpdateRetentionTimer();
        if (Deleting)
        {
            ExpireAllInMemory();
            StartDeletionTimer(); // this grain's silo went away mid-deletion: it goes on here
        }
    }

    /// <summary>Null while the category is being deleted: no silo opens it (see <see cref="GetDeletionAsync"/>).</summary>
    public async Task<CategorySettings?> GetSettingsAsync()
    {
        if (Deleting)
            return null;
        if (state.State.Settings is null && await database.GetCategoryAsync(Category, CancellationToken.None) is { } row)
            await SaveAsync(ToSettings(row)); // created before settings moved into grain state: adopt the table's row
        return state.State.Settings;
    }

    public async Task<CategorySettings> EnsureAsync(CategorySettings defaults)
    {
        ThrowIfDeleting();
        return await GetSettingsAsync() ?? await PutSettingsAsync(defaults);
    }

    public async Task<CategorySettings> PutSettingsAsync(CategorySettings settings)
    {
        ThrowIfDeleting();
        var current = state.State.Settings ?? (await database.GetCategoryAsync(Category, CancellationToken.None) is { } row ? ToSettings(row) : null);
        var next = settings with { Name = Category, CreatedAtMs = current?.CreatedAtMs ?? settings.CreatedAtMs };
        await SaveAsync(next);
        await database.PutCategoryAsync(ToRecord(next), CancellationToken.None);
        _observers.Notify(o => o.SettingsChanged(next));
        return next;
    }

    public Task<long> NextSequenceAsync(string owner)
    {
        ThrowIfDeleting();
        return database.NextChunkSequenceAsync(owner, Category, CancellationToken.None);
    }

    public async Task AddChunkAsync(CatalogChunk chunk)
    {
        ThrowIfDeleting();
        await database.AddChunkAsync(CatalogStore.ToRecord(chunk), CancellationToken.None);
        Changed(chunk);
    }

    public async Task<bool> UpdateChunkAsync(string name, string state, long size, long messages, long? sealedAtMs)
    {
        if (Deleting)
            return false; // a seal or an archive mark while the rows are being deleted: the catalog keeps nothing new
        var sealedAt = sealedAtMs is { } ms ? DateTimeOffset.FromUnixTimeMilliseconds(ms) : (DateTimeOffset?)null;
        if (!await database.UpdateChunkAsync(Category, name, state, size, messages, sealedAt, CancellationToken.None))
            return false;
        if (_chunks.TryGetValue(name, out var row))
            Changed(row with { State = state, Size = size, Messages = messages, SealedAtMs = sealedAtMs });
        return true;
    }

    public async Task<bool> SealForOwnerAsync(string name, long size, long messages, string sealedBy, long sealedAtMs)
    {
        if (Deleting)
            return false;
        if (!await database.Cluster.SealForOwnerAsync(Category, name, size, messages, sealedBy, sealedAtMs, CancellationToken.None))
            return false;
        if (_chunks.TryGetValue(name, out var row))
            Changed(row with { State = ChunkStates.Sealed, Size = size, Messages = messages, SealedAtMs = sealedAtMs, SealedBy = sealedBy });
        return true;
    }

    public Task<CatalogChunk[]> ListChunksAsync()
    {
        var rows = _chunks.Values.ToArray();
        Array.Sort(rows, static (a, b) =>
            a.CreatedAtMs != b.CreatedAtMs ? a.CreatedAtMs.CompareTo(b.CreatedAtMs)
            : string.CompareOrdinal(a.Owner, b.Owner) is var byOwner and not 0 ? byOwner
            : a.Seq.CompareTo(b.Seq));
        return Task.FromResult(rows);
    }

    public async Task<bool> RemoveAsync()
    {
        ThrowIfDeleting();
        var existed = await database.DeleteCategoryAsync(Category, CancellationToken.None);
        _chunks.Clear();
        await state.ClearStateAsync();
        return existed;
    }

    public Task<string[]> GetWritersAsync()
    {
        var writers = membership.LivePeers().Select(p => p.SiloId).Append(membership.SiloId).Distinct().ToArray();
        Array.Sort(writers, StringComparer.Ordinal);
        return Task.FromResult(writers);
    }

    public async Task<bool> SubscribeAsync(ICatalogObserver observer)
    {
        if (await GetSettingsAsync() is null)
            return false;
        _observers.Subscribe(observer, observer);
        return true;
    }

    private async Task SaveAsync(CategorySettings settings)
    {
        state.State.Settings = settings;
        await state.WriteStateAsync();
        UpdateRetentionTimer(); // retention set or cleared
    }

    internal static CategorySettings ToSettings(CategoryRecord row) =>
        new(row.Name, row.MaxChunkBytes, row.MaxChunkAgeMs, row.DefaultDurability, row.CreatedAt.ToUnixTimeMilliseconds(), row.RetentionMs, row.RetentionBytes);

    internal static CategoryRecord ToRecord(CategorySettings settings) =>
        new(settings.Name, settings.MaxChunkBytes, settings.MaxChunkAgeMs, settings.DefaultDurability, DateTimeOffset.FromUnixTimeMilliseconds(settings.CreatedAtMs),
            settings.RetentionMs, settings.RetentionBytes);

    private void Changed(CatalogChunk chunk)
    {
        _chunks[chunk.Name] = chunk;
        _observers.Notify(o => o.ChunkChanged(chunk));
    }
}
