namespace OrleansBus.Silo.Metadata;

/// <summary>
/// The metadata store: category settings, the chunk catalog and chunk sequence numbers (consumer groups are grain state).
/// SQLite in the embedded default; PostgreSQL in a cluster. Implementations are thread safe,
/// translate their database's errors into <see cref="MetadataStoreException"/> at this boundary,
/// and apply their migrations in <see cref="MigrateAsync"/> before any other call.
/// </summary>
public interface IMetadataStore : IAsyncDisposable
{
    Task MigrateAsync(CancellationToken cancellationToken);

    Task<IReadOnlyList<CategoryRecord>> ListCategoriesAsync(CancellationToken cancellationToken);

    Task<CategoryRecord?> GetCategoryAsync(string name, CancellationToken cancellationToken);

    /// <summary>Inserts <paramref name="defaults"/> unless the category exists; returns the stored record either way.</summary>
    Task<CategoryRecord> EnsureCategoryAsync(CategoryRecord defaults, CancellationToken cancellationToken);

    /// <summary>Inserts or replaces a category's settings.</summary>
    Task PutCategoryAsync(CategoryRecord record, CancellationToken cancellationToken);

    /// <summary>
    /// Marks the category's row as being deleted since <paramref name="atMs"/> (its grain decides; silos read the mark to
    /// resume a deletion whose grain went away). The row goes with <see cref="DeleteCategoryAsync"/>.
    /// </summary>
    Task MarkCategoryDeletingAsync(string name, long atMs, CancellationToken cancellationToken);

    /// <summary>Deletes the category and its chunk rows. Chunk sequence numbers are kept, so names are never reused.</summary>
    Task<bool> DeleteCategoryAsync(string name, CancellationToken cancellationToken);

    /// <summary>
    /// Returns the next chunk sequence number for (owner, category), starting at 0. Monotonic and never
    /// reused, even after the category and all its files are gone.
    /// </summary>
    Task<long> NextChunkSequenceAsync(string owner, string category, CancellationToken cancellationToken);

    /// <summary>Adds a catalog row (normally in state active).</summary>
    Task AddChunkAsync(ChunkRecord chunk, CancellationToken cancellationToken);

    /// <summary>
    /// Sets a chunk's state, size and message count (sealing makes them final). False when the row was left as it was: a
    /// replica sealed it for its dead owner (the owner's late seal never rewrites that), or an archive of another size.
    /// </summary>
    Task<bool> UpdateChunkAsync(string category, string name, string state, long size, long messages, DateTimeOffset? sealedAt, CancellationToken cancellationToken);

    /// <summary>The category's chunks, oldest first (by owner's sequence, then name).</summary>
    Task<IReadOnlyList<ChunkRecord>> ListChunksAsync(string category, CancellationToken cancellationToken);

    /// <summary>Membership, replica placement and sealing on behalf of a dead owner, in the same database.</summary>
    Cluster.IClusterStore Cluster { get; }
}

/// <summary>A metadata store operation failed; the inner exception is the database's own.</summary>
public sealed class MetadataStoreException(string message, Exception? inner = null) : Exception(message, inner);
