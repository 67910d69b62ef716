namespace OrleansBus.Contracts.Grains;

/// <summary>
/// One category, keyed by its name: its settings (persisted as grain state) and its chunk catalog — the only writer of
/// its chunk rows (sequence numbers, new
/// chunks, seals, archive state, a replica's seal for a dead owner), which it keeps in memory to answer listings, and
/// tells every subscribed silo about each change as it happens (no silo polls the catalog).
/// </summary>
[Alias("orleansbus.ICategoryGrain")]
public interface ICategoryGrain : IGrainWithStringKey
{
    /// <summary>The category's settings, or null when the category does not exist.</summary>
    [Alias("settings")]
    Task<CategorySettings?> GetSettingsAsync();

    /// <summary>Creates the category with <paramref name="defaults"/> unless it exists; returns its settings either way.</summary>
    [Alias("ensure")]
    Task<CategorySettings> EnsureAsync(CategorySettings defaults);

    /// <summary>Creates the category or replaces its settings (its creation time stays); every subscribed silo is told.</summary>
    [Alias("put-settings")]
    Task<CategorySettings> PutSettingsAsync(CategorySettings settings);

    /// <summary>The next chunk sequence number of <paramref name="owner"/> in this category: monotonic, never reused.</summary>
    [Alias("next-sequence")]
    Task<long> NextSequenceAsync(string owner);

    /// <summary>Records a new chunk (normally active).</summary>
    [Alias("add")]
    Task AddChunkAsync(CatalogChunk chunk);

    /// <summary>Sets a chunk's state, size and messages; false when the catalog keeps what it has (see the metadata store's rules).</summary>
    [Alias("update")]
    Task<bool> UpdateChunkAsync(string name, string state, long size, long messages, long? sealedAtMs);

    /// <summary>Seals a dead owner's active chunk at a replica's size; true only for the one call that sealed it.</summary>
    [Alias("seal-for-owner")]
    Task<bool> SealForOwnerAsync(string name, long size, long messages, string sealedBy, long sealedAtMs);

    /// <summary>Every chunk, oldest first (creation time, then owner, then sequence), from memory.</summary>
    [Alias("list")]
    Task<CatalogChunk[]> ListChunksAsync();

    /// <summary>
    /// Applies the category's retention now (it also runs every <c>Bus:RetentionCheckInterval</c>): expires the sealed or
    /// archived chunks past <c>retentionMs</c>, then the oldest ones while the category is over <c>retentionBytes</c>, and
    /// deletes their blobs (retried until done). Returns the names it expired on this call.
    /// </summary>
    [Alias("apply-retention")]
    Task<string[]> ApplyRetentionAsync();

    /// <summary>
    /// Removes a category that holds no data at once (its first produce failed): settings and catalog rows go, sequence
    /// numbers stay; false when it did not exist. Not the user's delete: see <see cref="StartDeletionAsync"/>.
    /// </summary>
    [Alias("delete")]
    Task<bool> RemoveAsync();

    /// <summary>
    /// Starts deleting the category (or reports the deletion already under way): every live silo stops writing it and
    /// deletes its files before this returns (those unreachable are asked again each step); then, step by step, every
    /// consumer group, every blob and the catalog rows go, and the category is gone (sequence numbers stay, so a new
    /// category of the name never reuses a chunk name). Null when the category does not exist.
    /// </summary>
    [Alias("start-deletion")]
    Task<CategoryDeletion?> StartDeletionAsync();

    /// <summary>The deletion under way, or null (the category is live, or does not exist). Activating the grain resumes it.</summary>
    [Alias("deletion")]
    Task<CategoryDeletion?> GetDeletionAsync();

    /// <summary>A silo stopped writing the category and deleted its files of it (the answer to a drop the deletion asked for).</summary>
    [Alias("silo-dropped")]
    Task SiloDroppedAsync(string siloId);

    /// <summary>Records a consumer group of the category (its creation), so a deletion finds it; refused while deleting.</summary>
    /// <exception cref="CategoryDeletingException">The category is being deleted.</exception>
    [Alias("register-group")]
    Task RegisterGroupAsync(string group);

    /// <summary>
    /// The silos that write this category now, by silo id, sorted: every Active member whose HTTP address is known, as the
    /// silo hosting this grain sees Orleans membership. The gateway routes produce among these.
    /// </summary>
    [Alias("writers")]
    Task<string[]> GetWritersAsync();

    /// <summary>
    /// Tells <paramref name="observer"/> about every change from now on; subscriptions lapse after a few minutes unless
    /// renewed. False (and no subscription) when the category is being deleted or does not exist: the silo drops it.
    /// </summary>
    [Alias("subscribe")]
    Task<bool> SubscribeAsync(ICatalogObserver observer);
}

/// <summary>A silo that wants to hear about a category's catalog changes.</summary>
[Alias("orleansbus.ICatalogObserver")]
public interface ICatalogObserver : IGrainObserver
{
    /// <summary>A chunk row as it is now (new, sealed, archived, sealed for a dead owner).</summary>
    [Alias("changed")]
    void ChunkChanged(CatalogChunk chunk);

    /// <summary>The category's settings as they are now.</summary>
    [Alias("settings-changed")]
    void SettingsChanged(CategorySettings settings);
}

/// <summary>A category's settings: seal size and age, and the durability of a produce that names none.</summary>
[GenerateSerializer, Immutable, Alias("orleansbus.CategorySettings")]
public sealed record CategorySettings(
    [property: Id(0)] string Name,
    [property: Id(1)] long MaxChunkBytes,
    [property: Id(2)] long MaxChunkAgeMs,
    [property: Id(3)] string DefaultDurability,
    [property: Id(4)] long CreatedAtMs,
    [property: Id(5)] long RetentionMs = 0,
    [property: Id(6)] long RetentionBytes = 0);

/// <summary>A deletion under way: the settings the category had, and what is left to delete.</summary>
[GenerateSerializer, Immutable, Alias("orleansbus.CategoryDeletion")]
public sealed record CategoryDeletion(
    [property: Id(0)] CategorySettings Settings,
    [property: Id(1)] long StartedAtMs,
    [property: Id(2)] string[] SilosPending,
    [property: Id(3)] int GroupsLeft,
    [property: Id(4)] int ChunksLeft);

/// <summary>A chunk row of the catalog. Times are Unix milliseconds.</summary>
[GenerateSerializer, Immutable, Alias("orleansbus.CatalogChunk")]
public sealed record CatalogChunk(
    [property: Id(0)] string Category,
    [property: Id(1)] string Name,
    [property: Id(2)] string Owner,
    [property: Id(3)] long Seq,
    [property: Id(4)] string State,
    [property: Id(5)] long Size,
    [property: Id(6)] long Messages,
    [property: Id(7)] long CreatedAtMs,
    [property: Id(8)] long? SealedAtMs,
    [property: Id(9)] string? SealedBy);
