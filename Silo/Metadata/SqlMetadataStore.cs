using System.Data.Common;

namespace OrleansBus.Silo.Metadata;

/// <summary>
/// The metadata store's SQL, written once for SQLite and PostgreSQL (both accept <c>@name</c> parameters,
/// <c>ON CONFLICT</c> and <c>RETURNING</c>). A backend supplies connections, transactions, migrations and the
/// one place its driver's errors become <see cref="MetadataStoreException"/>; columns are identical
/// (timestamps are bigint Unix milliseconds), so both answer the conformance suite the same way.
/// </summary>
public abstract class SqlMetadataStore : IMetadataStore, ISqlRunner
{
    private SqlClusterStore? _cluster;

    /// <summary>Each entry moves the schema one version forward; never edit a shipped entry, append a new one.</summary>
    private protected static readonly string[] Migrations =
    [
        """
        CREATE TABLE categories (
            name TEXT PRIMARY KEY,
            max_chunk_bytes BIGINT NOT NULL,
            max_chunk_age_ms BIGINT NOT NULL,
            default_durability TEXT NOT NULL,
            created_at BIGINT NOT NULL);
        CREATE TABLE chunk_sequences (
            owner TEXT NOT NULL,
            category TEXT NOT NULL,
            last_seq BIGINT NOT NULL,
            PRIMARY KEY (owner, category));
        CREATE TABLE chunks (
            category TEXT NOT NULL,
            name TEXT NOT NULL,
            owner TEXT NOT NULL,
            seq BIGINT NOT NULL,
            state TEXT NOT NULL,
            size BIGINT NOT NULL,
            messages BIGINT NOT NULL,
            created_at BIGINT NOT NULL,
            sealed_at BIGINT NULL,
            PRIMARY KEY (category, name));
        """,
        LegacyGroupTables.Migration, // dropped once carried into grain state (GroupTablesImport)
        SqlClusterStore.Migration,
        SqlClusterStore.DropSilosMigration,
        """
        ALTER TABLE categories ADD COLUMN retention_ms BIGINT NOT NULL DEFAULT 0;
        ALTER TABLE categories ADD COLUMN retention_bytes BIGINT NOT NULL DEFAULT 0;
        """,
        "ALTER TABLE categories ADD COLUMN deleting_at BIGINT NOT NULL DEFAULT 0;",
    ];

    /// <summary>A query counting the tables named <c>@name</c> in this store's schema.</summary>
    private protected abstract string TableExistsSql { get; }

    /// <summary>Whether a table of this store exists (the group tables are dropped at run time, not by a migration).</summary>
    internal async Task<bool> TableExistsAsync(string name, CancellationToken cancellationToken) =>
        (await QueryAsync(TableExistsSql, new SqlArgs().Add("@name", name), static r => Convert.ToInt64(r.GetValue(0)), durable: true, cancellationToken))[0] > 0;

    /// <summary>Appended where text is sorted so both backends sort by bytes, whatever the database's locale.</summary>
    private protected abstract string ByteOrder { get; }

    public Cluster.IClusterStore Cluster => _cluster ??= new SqlClusterStore(this);

    public abstract Task MigrateAsync(CancellationToken cancellationToken);

    public abstract ValueTask DisposeAsync();


    Task<int> ISqlRunner.ExecuteAsync(string sql, SqlArgs args, CancellationToken cancellationToken) => ExecuteAsync(sql, args, durable: false, cancellationToken);

    Task<IReadOnlyList<T>> ISqlRunner.QueryAsync<T>(string sql, SqlArgs args, Func<DbDataReader, T> read, CancellationToken cancellationToken) =>
        QueryAsync(sql, args, read, durable: false, cancellationToken);

    Task<bool> ISqlRunner.ExecuteInTransactionAsync(IReadOnlyList<(string Sql, SqlArgs Args)> statements, CancellationToken cancellationToken, bool guarded) =>
        ExecuteInTransactionAsync(statements, guarded, cancellationToken);

    /// <summary>
    /// Runs one statement. <paramref name="durable"/> false (consumer-group offsets and leases) may skip the
    /// backend's sync of the commit where it has the choice: a lost ack means one redelivery, which
    /// at-least-once allows; the catalog (sealed state, sequences) is always durable.
    /// </summary>
    private protected abstract Task<int> ExecuteAsync(string sql, SqlArgs args, bool durable, CancellationToken cancellationToken);

    private protected abstract Task<IReadOnlyList<T>> QueryAsync<T>(string sql, SqlArgs args, Func<DbDataReader, T> read, bool durable, CancellationToken cancellationToken);

    private protected abstract Task<bool> ExecuteInTransactionAsync(IReadOnlyList<(string Sql, SqlArgs Args)> statements, bool guarded, CancellationToken cancellationToken);

    private const string CategoryColumns = "name, max_chunk_bytes, max_chunk_age_ms, default_durability, created_at, retention_ms, retention_bytes";
    private const string CategoryValues = "@name, @bytes, @age, @durability, @created, @retentionMs, @retentionBytes";

    public Task<IReadOnlyList<CategoryRecord>> ListCategoriesAsync(CancellationToken cancellationToken) =>
        QueryAsync($"SELECT {CategoryColumns}, deleting_at FROM categories ORDER BY name{ByteOrder}", [], ReadCategory, durable: true, cancellationToken);

    public async Task<CategoryRecord?> GetCategoryAsync(string name, CancellationToken cancellationToken)
    {
        var rows = await QueryAsync($"SELECT {CategoryColumns}, deleting_at FROM categories WHERE name = @name",
            new SqlArgs().Add("@name", name), ReadCategory, durable: true, cancellationToken);
        return rows.Count == 0 ? null : rows[0];
    }

    public async Task<CategoryRecord> EnsureCategoryAsync(CategoryRecord defaults, CancellationToken cancellationToken)
    {
        await ExecuteAsync($"INSERT INTO categories ({CategoryColumns}) VALUES ({CategoryValues}) ON CONFLICT (name) DO NOTHING",
            CategoryArgs(defaults), durable: true, cancellationToken);
        return await GetCategoryAsync(defaults.Name, cancellationToken)
            ?? throw new MetadataStoreException($"Category {defaults.Name} vanished right after it was ensured.");
    }

    public Task PutCategoryAsync(CategoryRecord record, CancellationToken cancellationToken) =>
        ExecuteAsync(
            $"""
            INSERT INTO categories ({CategoryColumns}) VALUES ({CategoryValues})
            ON CONFLICT (name) DO UPDATE SET max_chunk_bytes = excluded.max_chunk_bytes,
                max_chunk_age_ms = excluded.max_chunk_age_ms, default_durability = excluded.default_durability,
                retention_ms = excluded.retention_ms, retention_bytes = excluded.retention_bytes
            """,
            CategoryArgs(record), durable: true, cancellationToken);

    public Task MarkCategoryDeletingAsync(string name, long atMs, CancellationToken cancellationToken) =>
        ExecuteAsync("UPDATE categories SET deleting_at = @at WHERE name = @name",
            new SqlArgs().Add("@name", name).Add("@at", atMs), durable: true, cancellationToken);

    public async Task<bool> DeleteCategoryAsync(string name, CancellationToken cancellationToken)
    {
        var exists = await GetCategoryAsync(name, cancellationToken) is not null;
        var args = new SqlArgs().Add("@name", name);
        // Chunk rows go with the category, in one transaction; chunk_sequences stay, so names are never reused.
        await ExecuteInTransactionAsync(
        [
            ("DELETE FROM chunk_replicas WHERE category = @name", args),
            ("DELETE FROM chunks WHERE category = @name", args),
            ("DELETE FROM categories WHERE name = @name", args),
        ], guarded: false, cancellationToken);
        return exists;
    }

    public async Task<long> NextChunkSequenceAsync(string owner, string category, CancellationToken cancellationToken)
    {
        // The upsert locks the row, so concurrent callers on any silo queue up and each gets its own number.
        // Not synced on its own (SQLite): its only caller adds the chunk row next with a synced commit, which makes
        // this earlier one durable too (the WAL is written in order); a number lost to a crash in between named no
        // row and no file, so handing it out again is harmless. One sync per rotation instead of two.
        var rows = await QueryAsync(
            """
            INSERT INTO chunk_sequences (owner, category, last_seq) VALUES (@owner, @category, 0)
            ON CONFLICT (owner, category) DO UPDATE SET last_seq = chunk_sequences.last_seq + 1
            RETURNING last_seq
            """,
            new SqlArgs().Add("@owner", owner).Add("@category", category), static r => Convert.ToInt64(r.GetValue(0)), durable: false, cancellationToken);
        return rows[0];
    }

    public Task AddChunkAsync(ChunkRecord chunk, CancellationToken cancellationToken) =>
        ExecuteAsync(
            """
            INSERT INTO chunks (category, name, owner, seq, state, size, messages, created_at, sealed_at)
            VALUES (@category, @name, @owner, @seq, @state, @size, @messages, @created, @sealed)
            """,
            new SqlArgs().Add("@category", chunk.Category).Add("@name", chunk.Name).Add("@owner", chunk.Owner).Add("@seq", chunk.Seq)
                .Add("@state", chunk.State).Add("@size", chunk.Size).Add("@messages", chunk.Messages)
                .Add("@created", chunk.CreatedAt.ToUnixTimeMilliseconds()).Add("@sealed", chunk.SealedAt?.ToUnixTimeMilliseconds()),
            durable: true, cancellationToken);

    public async Task<bool> UpdateChunkAsync(string category, string name, string state, long size, long messages, DateTimeOffset? sealedAt, CancellationToken cancellationToken) =>
        await ExecuteAsync(
            // A row a replica sealed for a dead owner is never rewritten by that owner's late seal (its size is what the
            // replicas hold; the owner re-publishes its tail instead); the sealing replica itself still marks it archived.
            // Archiving never changes a final size: an archive of any other size than the catalog's is not this chunk.
            // Retention expires only final chunks (whoever sealed them), and nothing ever leaves the expired state.
            """
            UPDATE chunks SET state = @state, size = @size, messages = @messages, sealed_at = @sealed
            WHERE category = @category AND name = @name AND state <> 'expired'
              AND (sealed_by IS NULL OR sealed_by <> owner AND @state IN ('archived', 'expired') OR sealed_by = owner)
              AND (@state <> 'archived' OR size = @size)
              AND (@state <> 'expired' OR state IN ('sealed', 'archived'))
            """,
            new SqlArgs().Add("@category", category).Add("@name", name).Add("@state", state).Add("@size", size)
                .Add("@messages", messages).Add("@sealed", sealedAt?.ToUnixTimeMilliseconds()),
            durable: true, cancellationToken) == 1;

    public Task<IReadOnlyList<ChunkRecord>> ListChunksAsync(string category, CancellationToken cancellationToken) =>
        QueryAsync(
            $"""
            SELECT category, name, owner, seq, state, size, messages, created_at, sealed_at, sealed_by FROM chunks
            WHERE category = @category ORDER BY created_at, owner{ByteOrder}, seq
            """,
            new SqlArgs().Add("@category", category),
            static r => new ChunkRecord(
                r.GetString(0), r.GetString(1), r.GetString(2), Convert.ToInt64(r.GetValue(3)), r.GetString(4), Convert.ToInt64(r.GetValue(5)),
                Convert.ToInt64(r.GetValue(6)), DateTimeOffset.FromUnixTimeMilliseconds(Convert.ToInt64(r.GetValue(7))),
                r.IsDBNull(8) ? null : DateTimeOffset.FromUnixTimeMilliseconds(Convert.ToInt64(r.GetValue(8))),
                r.IsDBNull(9) ? null : r.GetString(9)),
            durable: true, cancellationToken);

    private static CategoryRecord ReadCategory(DbDataReader r) => new(
        r.GetString(0), Convert.ToInt64(r.GetValue(1)), Convert.ToInt64(r.GetValue(2)), r.GetString(3),
        DateTimeOffset.FromUnixTimeMilliseconds(Convert.ToInt64(r.GetValue(4))), Convert.ToInt64(r.GetValue(5)), Convert.ToInt64(r.GetValue(6)),
        Convert.ToInt64(r.GetValue(7)));

    private static SqlArgs CategoryArgs(CategoryRecord record) =>
        new SqlArgs().Add("@name", record.Name).Add("@bytes", record.MaxChunkBytes).Add("@age", record.MaxChunkAgeMs)
            .Add("@durability", record.DefaultDurability).Add("@created", record.CreatedAt.ToUnixTimeMilliseconds())
            .Add("@retentionMs", record.RetentionMs).Add("@retentionBytes", record.RetentionBytes);
}
