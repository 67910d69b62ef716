using Microsoft.Data.Sqlite;

namespace OrleansBus.Silo.Metadata;

/// <summary>
/// <see cref="IMetadataStore"/> on an SQLite file (the embedded single-node default). WAL mode with
/// synchronous=FULL: the catalog changes a few times per chunk, and a sealed state that a power loss
/// could roll back would break "sealed is persisted". Connections are pooled; each call opens one.
/// </summary>
public sealed partial class SqliteMetadataStore : IMetadataStore
{
    private readonly string _connectionString;

    public SqliteMetadataStore(string databasePath)
    {
        _connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = databasePath,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Pooling = true,
            DefaultTimeout = 30,
        }.ToString();
    }

    public async Task MigrateAsync(CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using (var pragma = connection.CreateCommand())
        {
            pragma.CommandText = "PRAGMA journal_mode=WAL;";
            await pragma.ExecuteNonQueryAsync(cancellationToken);
        }
        await TranslateAsync(async () =>
        {
            await using var tx = (SqliteTransaction)await connection.BeginTransactionAsync(cancellationToken);
            var version = await SchemaVersionAsync(connection, tx, cancellationToken);
            for (var i = version; i < Migrations.Length; i++)
            {
                await using var command = connection.CreateCommand();
                command.Transaction = tx;
                command.CommandText = Migrations[i] + $"\nUPDATE schema_version SET version = {i + 1};";
                await command.ExecuteNonQueryAsync(cancellationToken);
            }
            await tx.CommitAsync(cancellationToken);
            return 0;
        });
    }

    private static async Task<int> SchemaVersionAsync(SqliteConnection connection, SqliteTransaction tx, CancellationToken cancellationToken)
    {
        await using var command = connection.CreateCommand();
        command.Transaction = tx;
        command.CommandText = """
            CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL);
            INSERT INTO schema_version (version) SELECT 0 WHERE NOT EXISTS (SELECT 1 FROM schema_version);
            SELECT version FROM schema_version;
            """;
        return Convert.ToInt32(await command.ExecuteScalarAsync(cancellationToken));
    }

    /// <summary>Each entry moves the schema one version forward; never edit a shipped entry, append a new one.</summary>
    private static readonly string[] Migrations =
    [
        """
        CREATE TABLE categories (
            name TEXT PRIMARY KEY,
            max_chunk_bytes INTEGER NOT NULL,
            max_chunk_age_ms INTEGER NOT NULL,
            default_durability TEXT NOT NULL,
            created_at INTEGER NOT NULL);
        CREATE TABLE chunk_sequences (
            owner TEXT NOT NULL,
            category TEXT NOT NULL,
            last_seq INTEGER NOT NULL,
            PRIMARY KEY (owner, category));
        CREATE TABLE chunks (
            category TEXT NOT NULL,
            name TEXT NOT NULL,
            owner TEXT NOT NULL,
            seq INTEGER NOT NULL,
            state TEXT NOT NULL,
            size INTEGER NOT NULL,
            messages INTEGER NOT NULL,
            created_at INTEGER NOT NULL,
            sealed_at INTEGER NULL,
            PRIMARY KEY (category, name));
        """,
        SqlGroupStore.Migration,
    ];

    public Task<IReadOnlyList<CategoryRecord>> ListCategoriesAsync(CancellationToken cancellationToken) =>
        QueryAsync("SELECT name, max_chunk_bytes, max_chunk_age_ms, default_durability, created_at FROM categories ORDER BY name",
            static _ => { }, ReadCategory, cancellationToken);

    public async Task<CategoryRecord?> GetCategoryAsync(string name, CancellationToken cancellationToken)
    {
        var rows = await QueryAsync(
            "SELECT name, max_chunk_bytes, max_chunk_age_ms, default_durability, created_at FROM categories WHERE name = $name",
            p => p.AddWithValue("$name", name), ReadCategory, cancellationToken);
        return rows.Count == 0 ? null : rows[0];
    }

    public async Task<CategoryRecord> EnsureCategoryAsync(CategoryRecord defaults, CancellationToken cancellationToken)
    {
        await ExecuteAsync(
            """
            INSERT INTO categories (name, max_chunk_bytes, max_chunk_age_ms, default_durability, created_at)
            VALUES ($name, $bytes, $age, $durability, $created) ON CONFLICT (name) DO NOTHING
            """,
            p => AddCategory(p, defaults), cancellationToken);
        return await GetCategoryAsync(defaults.Name, cancellationToken)
            ?? throw new MetadataStoreException($"Category {defaults.Name} vanished right after it was ensured.");
    }

    public Task PutCategoryAsync(CategoryRecord record, CancellationToken cancellationToken) =>
        ExecuteAsync(
            """
            INSERT INTO categories (name, max_chunk_bytes, max_chunk_age_ms, default_durability, created_at)
            VALUES ($name, $bytes, $age, $durability, $created)
            ON CONFLICT (name) DO UPDATE SET max_chunk_bytes = excluded.max_chunk_bytes,
                max_chunk_age_ms = excluded.max_chunk_age_ms, default_durability = excluded.default_durability
            """,
            p => AddCategory(p, record), cancellationToken);

    public async Task<bool> DeleteCategoryAsync(string name, CancellationToken cancellationToken)
    {
        var deleted = await ExecuteAsync(
            "DELETE FROM group_chunks WHERE category = $name; DELETE FROM group_watermarks WHERE category = $name; DELETE FROM consumer_groups WHERE category = $name; DELETE FROM chunks WHERE category = $name; DELETE FROM categories WHERE name = $name;",
            p => p.AddWithValue("$name", name), cancellationToken);
        return deleted > 0;
    }

    public async Task<long> NextChunkSequenceAsync(string owner, string category, CancellationToken cancellationToken)
    {
        var rows = await QueryAsync(
            """
            INSERT INTO chunk_sequences (owner, category, last_seq) VALUES ($owner, $category, 0)
            ON CONFLICT (owner, category) DO UPDATE SET last_seq = last_seq + 1
            RETURNING last_seq
            """,
            p =>
            {
                p.AddWithValue("$owner", owner);
                p.AddWithValue("$category", category);
            },
            static r => r.GetInt64(0), cancellationToken);
        return rows[0];
    }

    public Task AddChunkAsync(ChunkRecord chunk, CancellationToken cancellationToken) =>
        ExecuteAsync(
            """
            INSERT INTO chunks (category, name, owner, seq, state, size, messages, created_at, sealed_at)
            VALUES ($category, $name, $owner, $seq, $state, $size, $messages, $created, $sealed)
            """,
            p =>
            {
                p.AddWithValue("$category", chunk.Category);
                p.AddWithValue("$name", chunk.Name);
                p.AddWithValue("$owner", chunk.Owner);
                p.AddWithValue("$seq", chunk.Seq);
                p.AddWithValue("$state", chunk.State);
                p.AddWithValue("$size", chunk.Size);
                p.AddWithValue("$messages", chunk.Messages);
                p.AddWithValue("$created", chunk.CreatedAt.ToUnixTimeMilliseconds());
                p.AddWithValue("$sealed", (object?)chunk.SealedAt?.ToUnixTimeMilliseconds() ?? DBNull.Value);
            },
            cancellationToken);

    public Task UpdateChunkAsync(string category, string name, string state, long size, long messages, DateTimeOffset? sealedAt, CancellationToken cancellationToken) =>
        ExecuteAsync(
            """
            UPDATE chunks SET state = $state, size = $size, messages = $messages, sealed_at = $sealed
            WHERE category = $category AND name = $name
            """,
            p =>
            {
                p.AddWithValue("$category", category);
                p.AddWithValue("$name", name);
                p.AddWithValue("$state", state);
                p.AddWithValue("$size", size);
                p.AddWithValue("$messages", messages);
                p.AddWithValue("$sealed", (object?)sealedAt?.ToUnixTimeMilliseconds() ?? DBNull.Value);
            },
            cancellationToken);

    public Task<IReadOnlyList<ChunkRecord>> ListChunksAsync(string category, CancellationToken cancellationToken) =>
        QueryAsync(
            """
            SELECT category, name, owner, seq, state, size, messages, created_at, sealed_at FROM chunks
            WHERE category = $category ORDER BY created_at, owner, seq
            """,
            p => p.AddWithValue("$category", category),
            static r => new ChunkRecord(
                r.GetString(0), r.GetString(1), r.GetString(2), r.GetInt64(3), r.GetString(4), r.GetInt64(5), r.GetInt64(6),
                DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(7)),
                r.IsDBNull(8) ? null : DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(8))),
            cancellationToken);

    public ValueTask DisposeAsync()
    {
        SqliteConnection.ClearAllPools();
        return ValueTask.CompletedTask;
    }
}
