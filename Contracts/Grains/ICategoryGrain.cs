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

    /// <summary>Deletes the category: its settings and catalog rows (sequence numbers stay); false when it did not exist.</summary>
    [Alias("delete")]
    Task<bool> DeleteAsync();

    /// <summary>
    /// The silos that write this category now, by silo id, sorted: every Active member whose HTTP address is known, as the
    /// silo hosting this grain sees Orleans membership. The gateway routes produce among these.
    /// </summary>
    [Alias("writers")]
    Task<string[]> GetWritersAsync();

    /// <summary>Tells <paramref name="observer"/> about every change from now on; subscriptions lapse after a few minutes unless renewed.</summary>
    [Alias("subscribe")]
    Task SubscribeAsync(ICatalogObserver observer);
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
