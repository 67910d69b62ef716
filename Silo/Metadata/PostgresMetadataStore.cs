using Npgsql;

namespace OrleansBus.Silo.Metadata;

/// <summary>
/// <see cref="IMetadataStore"/> on PostgreSQL (the cluster backend): every silo of a cluster shares one
/// database, so sequence numbers and the catalog are consistent across silos. Thread safe; each call
/// takes a connection from the <see cref="NpgsqlDataSource"/> pool. All tables live in one schema
/// (default <c>public</c>), selected through the connection's search path, so several clusters or test
/// classes can share a database. Columns mirror <see cref="SqliteMetadataStore"/> exactly (timestamps
/// are bigint Unix milliseconds), so the two stores answer the conformance suite identically.
/// </summary>
public sealed partial class PostgresMetadataStore : IMetadataStore
{
    // Arbitrary but fixed ("OBUSMETA"): every silo of every version must take the same key, or two
    // silos starting at once would both see version 0 and both run the first migration.
    private const long MigrationLockKey = 0x4F42_5553_4D45_5441;

    private readonly NpgsqlDataSource _dataSource;
    private readonly string _quotedSchema;

    public PostgresMetadataStore(string connectionString, string schema = "public")
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(schema);
        _quotedSchema = "\"" + schema.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";
        // Only this schema on the path: an unqualified name can never resolve to another schema's table.
        var builder = new NpgsqlConnectionStringBuilder(connectionString) { SearchPath = _quotedSchema };
        _dataSource = NpgsqlDataSource.Create(builder);
    }

    public Task MigrateAsync(CancellationToken cancellationToken) =>
        TranslateAsync(async () =>
        {
            await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken);
            await using var tx = await connection.BeginTransactionAsync(cancellationToken);
            // Held until commit; serializes creating the schema too (concurrent CREATE SCHEMA IF NOT
            // EXISTS can fail with a unique violation).
            await using (var command = new NpgsqlCommand($"SELECT pg_advisory_xact_lock({MigrationLockKey})", connection, tx))
                await command.ExecuteNonQueryAsync(cancellationToken);
            var version = await SchemaVersionAsync(connection, tx, cancellationToken);
            for (var i = version; i < Migrations.Length; i++)
            {
                await using var command = new NpgsqlCommand(
                    Migrations[i] + $"\nUPDATE schema_version SET version = {i + 1};", connection, tx);
                await command.ExecuteNonQueryAsync(cancellationToken);
            }
            await tx.CommitAsync(cancellationToken);
            return 0;
        });

    private async Task<int> SchemaVersionAsync(NpgsqlConnection connection, NpgsqlTransaction tx, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(
            $"""
            CREATE SCHEMA IF NOT EXISTS {_quotedSchema};
            CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL);
            INSERT INTO schema_version (version) SELECT 0 WHERE NOT EXISTS (SELECT 1 FROM schema_version);
            SELECT version FROM schema_version;
            """,
            connection, tx);
        return Convert.ToInt32(await command.ExecuteScalarAsync(cancellationToken));
    }

    /// <summary>Each entry moves the schema one version forward; never edit a shipped entry, append a new one.</summary>
    private static readonly string[] Migrations =
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
        SqlGroupStore.Migration,
    ];

    // COLLATE "C" wherever text is sorted: byte order, as SQLite sorts, whatever the database's locale.
    public Task<IReadOnlyList<CategoryRecord>> ListCategoriesAsync(CancellationToken cancellationToken) =>
        QueryAsync("SELECT name, max_chunk_bytes, max_chunk_age_ms, default_durability, created_at FROM categories ORDER BY name COLLATE \"C\"",
            static _ => { }, ReadCategory, cancellationToken);

    public async Task<CategoryRecord?> GetCategoryAsync(string name, CancellationToken cancellationToken)
    {
        var rows = await QueryAsync(
            "SELECT name, max_chunk_bytes, max_chunk_age_ms, default_durability, created_at FROM categories WHERE name = @name",
            p => p.AddWithValue("name", name), ReadCategory, cancellationToken);
        return rows.Count == 0 ? null : rows[0];
    }

    public async Task<CategoryRecord> EnsureCategoryAsync(CategoryRecord defaults, CancellationToken cancellationToken)
    {
        await ExecuteAsync(
            """
            INSERT INTO categories (name, max_chunk_bytes, max_chunk_age_ms, default_durability, created_at)
            VALUES (@name, @bytes, @age, @durability, @created) ON CONFLICT (name) DO NOTHING
            """,
            p => AddCategory(p, defaults), cancellationToken);
        return await GetCategoryAsync(defaults.Name, cancellationToken)
            ?? throw new MetadataStoreException($"Category {defaults.Name} vanished right after it was ensured.");
    }

    public Task PutCategoryAsync(CategoryRecord record, CancellationToken cancellationToken) =>
        ExecuteAsync(
            """
            INSERT INTO categories (name, max_chunk_bytes, max_chunk_age_ms, default_durability, created_at)
            VALUES (@name, @bytes, @age, @durability, @created)
            ON CONFLICT (name) DO UPDATE SET max_chunk_bytes = excluded.max_chunk_bytes,
                max_chunk_age_ms = excluded.max_chunk_age_ms, default_durability = excluded.default_durability
            """,
            p => AddCategory(p, record), cancellationToken);

    public async Task<bool> DeleteCategoryAsync(string name, CancellationToken cancellationToken)
    {
        // One command, so one implicit transaction: no catalog rows outlive their category.
        var deleted = await ExecuteAsync(
            "DELETE FROM group_chunks WHERE category = @name; DELETE FROM group_watermarks WHERE category = @name; DELETE FROM consumer_groups WHERE category = @name; DELETE FROM chunks WHERE category = @name; DELETE FROM categories WHERE name = @name;",
            p => p.AddWithValue("name", name), cancellationToken);
        return deleted > 0;
    }

    public async Task<long> NextChunkSequenceAsync(string owner, string category, CancellationToken cancellationToken)
    {
        // The upsert locks the row, so concurrent callers on any silo queue up and each gets its own number.
        var rows = await QueryAsync(
            """
            INSERT INTO chunk_sequences (owner, category, last_seq) VALUES (@owner, @category, 0)
            ON CONFLICT (owner, category) DO UPDATE SET last_seq = chunk_sequences.last_seq + 1
            RETURNING last_seq
            """,
            p =>
            {
                p.AddWithValue("owner", owner);
                p.AddWithValue("category", category);
            },
            static r => r.GetInt64(0), cancellationToken);
        return rows[0];
    }

    public Task AddChunkAsync(ChunkRecord chunk, CancellationToken cancellationToken) =>
        ExecuteAsync(
            """
            INSERT INTO chunks (category, name, owner, seq, state, size, messages, created_at, sealed_at)
            VALUES (@category, @name, @owner, @seq, @state, @size, @messages, @created, @sealed)
            """,
            p =>
            {
                p.AddWithValue("category", chunk.Category);
                p.AddWithValue("name", chunk.Name);
                p.AddWithValue("owner", chunk.Owner);
                p.AddWithValue("seq", chunk.Seq);
                p.AddWithValue("state", chunk.State);
                p.AddWithValue("size", chunk.Size);
                p.AddWithValue("messages", chunk.Messages);
                p.AddWithValue("created", chunk.CreatedAt.ToUnixTimeMilliseconds());
                AddMillis(p, "sealed", chunk.SealedAt);
            },
            cancellationToken);

    public Task UpdateChunkAsync(string category, string name, string state, long size, long messages, DateTimeOffset? sealedAt, CancellationToken cancellationToken) =>
        ExecuteAsync(
            """
            UPDATE chunks SET state = @state, size = @size, messages = @messages, sealed_at = @sealed
            WHERE category = @category AND name = @name
            """,
            p =>
            {
                p.AddWithValue("category", category);
                p.AddWithValue("name", name);
                p.AddWithValue("state", state);
                p.AddWithValue("size", size);
                p.AddWithValue("messages", messages);
                AddMillis(p, "sealed", sealedAt);
            },
            cancellationToken);

    public Task<IReadOnlyList<ChunkRecord>> ListChunksAsync(string category, CancellationToken cancellationToken) =>
        QueryAsync(
            """
            SELECT category, name, owner, seq, state, size, messages, created_at, sealed_at FROM chunks
            WHERE category = @category ORDER BY created_at, owner COLLATE "C", seq
            """,
            p => p.AddWithValue("category", category),
            static r => new ChunkRecord(
                r.GetString(0), r.GetString(1), r.GetString(2), r.GetInt64(3), r.GetString(4), r.GetInt64(5), r.GetInt64(6),
                DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(7)),
                r.IsDBNull(8) ? null : DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(8))),
            cancellationToken);

    public ValueTask DisposeAsync() => _dataSource.DisposeAsync();
}
