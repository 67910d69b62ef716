using System.Data.Common;
using OrleansBus.Silo.Groups;

namespace OrleansBus.Silo.Metadata;

/// <summary>
/// <see cref="IGroupStore"/> in SQL that SQLite and PostgreSQL both accept. Each state change is a single
/// conditional UPDATE whose WHERE clause is the invariant (lease free or expired, offset unmoved, token
/// matches), so two silos racing for one range cannot both win: the loser's UPDATE matches no row.
/// </summary>
internal sealed class SqlGroupStore(ISqlRunner sql) : IGroupStore
{
    /// <summary>Appended to each store's migrations (same text on both backends).</summary>
    public const string Migration = """
        CREATE TABLE consumer_groups (
            group_name TEXT NOT NULL,
            category TEXT NOT NULL,
            created_at BIGINT NOT NULL,
            seek_generation INTEGER NOT NULL,
            seek_kind TEXT NOT NULL,
            seek_time BIGINT NOT NULL,
            PRIMARY KEY (group_name, category));
        CREATE TABLE group_watermarks (
            group_name TEXT NOT NULL,
            category TEXT NOT NULL,
            silo TEXT NOT NULL,
            materialized INTEGER NOT NULL,
            applied_seek INTEGER NOT NULL,
            PRIMARY KEY (group_name, category, silo));
        CREATE TABLE group_chunks (
            group_name TEXT NOT NULL,
            category TEXT NOT NULL,
            chunk TEXT NOT NULL,
            position BIGINT NOT NULL,
            acked_offset BIGINT NOT NULL,
            acked_messages BIGINT NOT NULL,
            done INTEGER NOT NULL,
            lease_token TEXT NULL,
            lease_consumer TEXT NULL,
            lease_end BIGINT NOT NULL,
            lease_expires_at BIGINT NOT NULL,
            delivery_offset BIGINT NOT NULL,
            delivery_count INTEGER NOT NULL,
            available_at BIGINT NOT NULL,
            last_reason TEXT NULL,
            lease_messages BIGINT NOT NULL,
            PRIMARY KEY (group_name, category, chunk));
        CREATE INDEX group_chunks_open ON group_chunks (group_name, category, done, position);
        """;

    private const string Columns = """
        chunk, position, acked_offset, acked_messages, done, lease_token, lease_consumer, lease_end,
        lease_expires_at, delivery_offset, delivery_count, available_at, last_reason, lease_messages
        """;

    private const string Key = "group_name = @g AND category = @c AND chunk = @chunk";

    private static SqlArgs Args(string group, string category, string? chunk = null)
    {
        var args = new SqlArgs().Add("@g", group).Add("@c", category);
        return chunk is null ? args : args.Add("@chunk", chunk);
    }

    public async Task<GroupState> EnsureGroupAsync(string group, string category, string silo, string startKind, long nowMs, CancellationToken cancellationToken)
    {
        var state = await ReadStateAsync(group, category, silo, cancellationToken);
        if (state is not null)
            return state;
        // The start position is the group's first seek (generation 0), so every silo applies it the same way.
        var created = await sql.ExecuteAsync(
            """
            INSERT INTO consumer_groups (group_name, category, created_at, seek_generation, seek_kind, seek_time)
            VALUES (@g, @c, @now, 0, @kind, @now) ON CONFLICT DO NOTHING
            """,
            Args(group, category).Add("@now", nowMs).Add("@kind", startKind), cancellationToken);
        state = await ReadStateAsync(group, category, silo, cancellationToken)
            ?? throw new MetadataStoreException($"Group {group} on {category} vanished right after it was created.");
        return state with { Created = created == 1 };
    }

    private async Task<GroupState?> ReadStateAsync(string group, string category, string silo, CancellationToken cancellationToken)
    {
        var rows = await sql.QueryAsync(
            """
            SELECT g.created_at, g.seek_generation, g.seek_kind, g.seek_time, w.materialized, w.applied_seek
            FROM consumer_groups g LEFT JOIN group_watermarks w
                ON w.group_name = g.group_name AND w.category = g.category AND w.silo = @silo
            WHERE g.group_name = @g AND g.category = @c
            """,
            Args(group, category).Add("@silo", silo),
            static r => new GroupState(
                Materialized: r.IsDBNull(4) ? 0 : Convert.ToInt32(r.GetValue(4)),
                AppliedSeek: r.IsDBNull(5) ? -1 : Convert.ToInt32(r.GetValue(5)),
                Created: false,
                CreatedAtMs: Convert.ToInt64(r.GetValue(0)),
                SeekGeneration: Convert.ToInt32(r.GetValue(1)),
                SeekKind: r.GetString(2),
                SeekTimeMs: Convert.ToInt64(r.GetValue(3))),
            cancellationToken);
        return rows.Count == 0 ? null : rows[0];
    }

    public Task MaterializeAsync(string group, string category, string silo, IReadOnlyList<GroupPosition> rows, int materialized, CancellationToken cancellationToken)
    {
        var statements = new List<(string, SqlArgs)>(rows.Count + 1);
        // In name order: every silo now inserts rows for every silo's chunks, and two transactions inserting the same
        // keys in different orders deadlock on PostgreSQL; in one order, the second simply waits for the first.
        foreach (var row in rows.OrderBy(r => r.Chunk, StringComparer.Ordinal))
            statements.Add((InsertRow + " ON CONFLICT DO NOTHING", RowArgs(group, category, row)));
        statements.Add((
            """
            INSERT INTO group_watermarks (group_name, category, silo, materialized, applied_seek) VALUES (@g, @c, @silo, @m, -1)
            ON CONFLICT (group_name, category, silo) DO UPDATE SET materialized = excluded.materialized
            WHERE group_watermarks.materialized < excluded.materialized
            """,
            Args(group, category).Add("@silo", silo).Add("@m", materialized)));
        return sql.ExecuteInTransactionAsync(statements, cancellationToken);
    }

    public async Task<int> SeekAsync(string group, string category, string kind, long timeMs, CancellationToken cancellationToken)
    {
        var rows = await sql.QueryAsync(
            """
            UPDATE consumer_groups SET seek_generation = seek_generation + 1, seek_kind = @kind, seek_time = @time
            WHERE group_name = @g AND category = @c RETURNING seek_generation
            """,
            Args(group, category).Add("@kind", kind).Add("@time", timeMs), static r => Convert.ToInt32(r.GetValue(0)), cancellationToken);
        return rows.Count == 0 ? throw new MetadataStoreException($"Group {group} on {category} does not exist.") : rows[0];
    }

    private const string InsertRow = """
        INSERT INTO group_chunks (group_name, category, chunk, position, acked_offset, acked_messages, done, lease_token,
            lease_consumer, lease_end, lease_expires_at, delivery_offset, delivery_count, available_at, last_reason, lease_messages, applied_seek)
        VALUES (@g, @c, @chunk, @position, @acked, @messages, @done, NULL, NULL, @acked, 0, @acked, 0, 0, NULL, 0, @seek)
        """;

    private static SqlArgs RowArgs(string group, string category, GroupPosition row) =>
        Args(group, category, row.Chunk).Add("@position", row.Position).Add("@acked", row.AckedOffset)
            .Add("@messages", row.AckedMessages).Add("@done", row.Done ? 1 : 0).Add("@seek", row.AppliedSeek);

    public Task<IReadOnlyList<string>> ListChunkNamesAsync(string group, string category, CancellationToken cancellationToken) =>
        sql.QueryAsync("SELECT chunk FROM group_chunks WHERE group_name = @g AND category = @c", Args(group, category), static r => r.GetString(0), cancellationToken);

    public Task<IReadOnlyList<GroupChunkRow>> ListOpenAsync(string group, string category, CancellationToken cancellationToken) =>
        sql.QueryAsync($"SELECT {Columns} FROM group_chunks WHERE group_name = @g AND category = @c AND done = 0 ORDER BY position, chunk",
            Args(group, category), ReadRow, cancellationToken);

    public async Task<GroupChunkRow?> GetAsync(string group, string category, string chunk, CancellationToken cancellationToken)
    {
        var rows = await sql.QueryAsync($"SELECT {Columns} FROM group_chunks WHERE {Key}", Args(group, category, chunk), ReadRow, cancellationToken);
        return rows.Count == 0 ? null : rows[0];
    }

    public async Task<int?> TryLeaseAsync(string group, string category, string chunk, long expectedAcked, string token, string consumer,
        long leaseEnd, long leaseMessages, long expiresAtMs, long nowMs, CancellationToken cancellationToken)
    {
        const string Free = "acked_offset = @acked AND done = 0 AND (lease_token IS NULL OR lease_expires_at <= @now) AND available_at <= @now";
        var where = sql.SupportsSkipLocked
            ? $"(group_name, category, chunk) IN (SELECT group_name, category, chunk FROM group_chunks WHERE {Key} AND {Free} FOR UPDATE SKIP LOCKED)"
            : $"{Key} AND {Free}";
        var rows = await sql.QueryAsync(
            $"""
            UPDATE group_chunks SET lease_token = @token, lease_consumer = @consumer, lease_end = @end, lease_messages = @lm, lease_expires_at = @expires,
                delivery_count = CASE WHEN delivery_offset = acked_offset THEN delivery_count + 1 ELSE 1 END,
                delivery_offset = acked_offset
            WHERE {where}
            RETURNING delivery_count
            """,
            Args(group, category, chunk).Add("@acked", expectedAcked).Add("@now", nowMs).Add("@token", token)
                .Add("@consumer", consumer).Add("@end", leaseEnd).Add("@lm", leaseMessages).Add("@expires", expiresAtMs),
            static r => Convert.ToInt32(r.GetValue(0)), cancellationToken);
        return rows.Count == 0 ? null : rows[0];
    }

    public async Task<bool> AckAsync(string group, string category, string chunk, string token, long offset, long messages, bool release, CancellationToken cancellationToken)
    {
        var lease = release ? "lease_token = NULL, lease_consumer = NULL, lease_expires_at = 0," : "";
        var changed = await sql.ExecuteAsync(
            $"""
            UPDATE group_chunks SET {lease} acked_offset = @offset, acked_messages = acked_messages + @messages, lease_messages = lease_messages - @messages,
                delivery_offset = @offset, delivery_count = 0
            WHERE {Key} AND lease_token = @token AND acked_offset < @offset AND @offset <= lease_end
            """,
            Args(group, category, chunk).Add("@token", token).Add("@offset", offset).Add("@messages", messages), cancellationToken);
        return changed == 1;
    }

    public async Task<bool> NackAsync(string group, string category, string chunk, string token, long availableAtMs, string? reason, CancellationToken cancellationToken)
    {
        var changed = await sql.ExecuteAsync(
            $"""
            UPDATE group_chunks SET lease_token = NULL, lease_consumer = NULL, lease_expires_at = 0, available_at = @available, last_reason = @reason
            WHERE {Key} AND lease_token = @token
            """,
            Args(group, category, chunk).Add("@token", token).Add("@available", availableAtMs).Add("@reason", reason), cancellationToken);
        return changed == 1;
    }

    public async Task<bool> SkipAsync(string group, string category, string chunk, string claim, long expectedAcked, long newOffset, CancellationToken cancellationToken)
    {
        var changed = await sql.ExecuteAsync(
            $"""
            UPDATE group_chunks SET acked_offset = @new, acked_messages = acked_messages + 1, delivery_offset = @new, delivery_count = 0,
                lease_token = NULL, lease_consumer = NULL, lease_expires_at = 0, lease_end = @new
            WHERE {Key} AND acked_offset = @acked AND lease_token = @claim
            """,
            Args(group, category, chunk).Add("@acked", expectedAcked).Add("@new", newOffset).Add("@claim", claim), cancellationToken);
        return changed == 1;
    }

    public Task MarkDoneAsync(string group, string category, string chunk, long sealedSize, CancellationToken cancellationToken) =>
        sql.ExecuteAsync($"UPDATE group_chunks SET done = 1 WHERE {Key} AND acked_offset >= @size",
            Args(group, category, chunk).Add("@size", sealedSize), cancellationToken);

    public Task<bool> ResetAsync(string group, string category, string silo, IReadOnlyList<GroupPosition> rows, int appliedSeek, CancellationToken cancellationToken)
    {
        var statements = new List<(string, SqlArgs)>(rows.Count + 1)
        {
            // The guard: only the first to apply this seek generation for this silo rewrites the rows, so a
            // concurrent poll cannot wipe a lease granted right after the first application. Each row is guarded
            // too (applied_seek): every silo knows every silo's chunks, and the second silo to apply a seek must
            // not reset a row the first one already reset and a consumer has leased since.
            ("""
            INSERT INTO group_watermarks (group_name, category, silo, materialized, applied_seek) VALUES (@g, @c, @silo, @m, @applied)
            ON CONFLICT (group_name, category, silo) DO UPDATE SET materialized = excluded.materialized, applied_seek = excluded.applied_seek
            WHERE group_watermarks.applied_seek < excluded.applied_seek
            """, Args(group, category).Add("@silo", silo).Add("@m", rows.Count).Add("@applied", appliedSeek)),
        };
        foreach (var row in rows.OrderBy(r => r.Chunk, StringComparer.Ordinal)) // one lock order (see MaterializeAsync)
        {
            statements.Add((
                $"""
                {InsertRow} ON CONFLICT (group_name, category, chunk) DO UPDATE SET position = excluded.position,
                    acked_offset = excluded.acked_offset, acked_messages = excluded.acked_messages, done = excluded.done,
                    lease_token = NULL, lease_consumer = NULL, lease_end = excluded.lease_end, lease_expires_at = 0,
                    delivery_offset = excluded.delivery_offset, delivery_count = 0, available_at = 0, last_reason = NULL, lease_messages = 0,
                    applied_seek = excluded.applied_seek
                WHERE group_chunks.applied_seek < excluded.applied_seek
                """, RowArgs(group, category, row with { AppliedSeek = appliedSeek })));
        }
        return sql.ExecuteInTransactionAsync(statements, cancellationToken, guarded: true);
    }

    public Task<IReadOnlyList<string>> ListGroupsAsync(string category, CancellationToken cancellationToken) =>
        sql.QueryAsync("SELECT group_name FROM consumer_groups WHERE category = @c ORDER BY group_name",
            new SqlArgs().Add("@c", category), static r => r.GetString(0), cancellationToken);

    private static GroupChunkRow ReadRow(DbDataReader r) => new(
        r.GetString(0), Convert.ToInt64(r.GetValue(1)), Convert.ToInt64(r.GetValue(2)), Convert.ToInt64(r.GetValue(3)),
        Convert.ToInt32(r.GetValue(4)) != 0, r.IsDBNull(5) ? null : r.GetString(5), r.IsDBNull(6) ? null : r.GetString(6),
        Convert.ToInt64(r.GetValue(7)), Convert.ToInt64(r.GetValue(8)), Convert.ToInt64(r.GetValue(9)),
        Convert.ToInt32(r.GetValue(10)), Convert.ToInt64(r.GetValue(11)), r.IsDBNull(12) ? null : r.GetString(12),
        Convert.ToInt64(r.GetValue(13)));
}
