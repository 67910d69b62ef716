using OrleansBus.Silo.Cluster;

namespace OrleansBus.Silo.Metadata;

/// <summary><see cref="IClusterStore"/> in SQL that SQLite and PostgreSQL both accept.</summary>
internal sealed class SqlClusterStore(ISqlRunner sql) : IClusterStore
{
    /// <summary>
    /// Schema version 3. Besides membership (dropped again in version 4) and replica placement: <c>chunks.sealed_by</c> (the owner, or the replica
    /// that sealed for a dead owner and so archives the chunk) and <c>group_chunks.applied_seek</c> (the seek generation
    /// a row was last reset to, so when every silo now materialises every silo's chunks, a seek resets each row once).
    /// </summary>
    public const string Migration = """
        CREATE TABLE silos (
            silo_id TEXT PRIMARY KEY,
            address TEXT NOT NULL,
            epoch BIGINT NOT NULL,
            started_at BIGINT NOT NULL,
            heartbeat_at BIGINT NOT NULL,
            state TEXT NOT NULL);
        CREATE TABLE chunk_replicas (
            category TEXT NOT NULL,
            chunk TEXT NOT NULL,
            silo TEXT NOT NULL,
            PRIMARY KEY (category, chunk, silo));
        ALTER TABLE chunks ADD COLUMN sealed_by TEXT NULL;
        ALTER TABLE group_chunks ADD COLUMN applied_seek INTEGER NOT NULL DEFAULT -1;
        """;

    /// <summary>Schema version 4: membership moved to Orleans (its own table), so our <c>silos</c> table goes.</summary>
    public const string DropSilosMigration = "DROP TABLE silos;";

    public Task AddReplicaAsync(string category, string chunk, string siloId, CancellationToken cancellationToken) =>
        sql.ExecuteAsync("INSERT INTO chunk_replicas (category, chunk, silo) VALUES (@c, @chunk, @silo) ON CONFLICT DO NOTHING",
            new SqlArgs().Add("@c", category).Add("@chunk", chunk).Add("@silo", siloId), cancellationToken);

    public Task<IReadOnlyList<(string Chunk, string SiloId)>> ListReplicasAsync(string category, CancellationToken cancellationToken) =>
        sql.QueryAsync("SELECT chunk, silo FROM chunk_replicas WHERE category = @c ORDER BY chunk, silo",
            new SqlArgs().Add("@c", category), static r => (r.GetString(0), r.GetString(1)), cancellationToken);

    public async Task<bool> SealForOwnerAsync(string category, string chunk, long size, long messages, string sealedBy, long sealedAtMs, CancellationToken cancellationToken) =>
        await sql.ExecuteAsync(
            """
            UPDATE chunks SET state = 'sealed', size = @size, messages = @messages, sealed_at = @sealed, sealed_by = @by
            WHERE category = @c AND name = @chunk AND state = 'active'
            """,
            new SqlArgs().Add("@c", category).Add("@chunk", chunk).Add("@size", size).Add("@messages", messages)
                .Add("@sealed", sealedAtMs).Add("@by", sealedBy), cancellationToken) == 1;
}
