using OrleansBus.Silo.Grains;

namespace OrleansBus.Silo.Metadata;

/// <summary>
/// The consumer-group tables of the version before group grains (<c>consumer_groups</c>, <c>group_watermarks</c>,
/// <c>group_chunks</c>): read once per group to carry its offsets into grain state, then dropped
/// (<see cref="GroupTablesImport"/>). Both backends; every method answers "nothing" once the tables are gone.
/// </summary>
public sealed class LegacyGroupTables([FromKeyedServices(CatalogStore.DatabaseKey)] IMetadataStore database, TimeProvider time)
{
    /// <summary>The historical migration that created the tables (still applied, in order, to a new database).</summary>
    internal const string Migration = """
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

    private volatile bool _gone;

    private SqlMetadataStore Sql => database as SqlMetadataStore
        ?? throw new InvalidOperationException($"The catalog database is a {database.GetType().Name}, not an SQL store.");

    private ISqlRunner Runner => Sql;

    /// <summary>Whether the tables are still there.</summary>
    public async Task<bool> ExistAsync(CancellationToken cancellationToken)
    {
        if (_gone)
            return false;
        var exists = await Sql.TableExistsAsync("consumer_groups", cancellationToken);
        _gone = !exists;
        return exists;
    }

    /// <summary>Every (category, group) the tables hold.</summary>
    public async Task<IReadOnlyList<(string Category, string Group)>> ListAsync(CancellationToken cancellationToken) =>
        await ExistAsync(cancellationToken)
            ? await Runner.QueryAsync("SELECT category, group_name FROM consumer_groups ORDER BY category, group_name", [],
                static r => (r.GetString(0), r.GetString(1)), cancellationToken)
            : [];

    /// <summary>The group as grain state (leases are not carried: they were in flight), or null when the tables do not hold it.</summary>
    public async Task<ConsumerGroupState?> ReadAsync(string category, string group, CancellationToken cancellationToken)
    {
        if (!await ExistAsync(cancellationToken))
            return null;
        var args = new SqlArgs().Add("@g", group).Add("@c", category);
        var heads = await Runner.QueryAsync(
            "SELECT created_at, seek_generation, seek_kind, seek_time FROM consumer_groups WHERE group_name = @g AND category = @c", args,
            static r => (Created: Convert.ToInt64(r.GetValue(0)), Generation: Convert.ToInt32(r.GetValue(1)), Kind: r.GetString(2), Time: Convert.ToInt64(r.GetValue(3))),
            cancellationToken);
        if (heads.Count == 0)
            return null;
        var head = heads[0];
        var state = new ConsumerGroupState
        {
            Exists = true,
            CreatedAtMs = head.Created,
            SeekGeneration = head.Generation,
            SeekKind = head.Kind,
            SeekTimeMs = head.Time,
        };
        foreach (var (silo, applied) in await Runner.QueryAsync(
            "SELECT silo, applied_seek FROM group_watermarks WHERE group_name = @g AND category = @c", args,
            static r => (r.GetString(0), Convert.ToInt32(r.GetValue(1))), cancellationToken))
        {
            state.AppliedSeek[silo] = applied;
        }
        var rows = await Runner.QueryAsync(
            """
            SELECT chunk, position, acked_offset, acked_messages, done, delivery_offset, delivery_count, available_at, last_reason, applied_seek
            FROM group_chunks WHERE group_name = @g AND category = @c
            """, args,
            static r => (Chunk: r.GetString(0), Progress: new ChunkProgress
            {
                Position = Convert.ToInt64(r.GetValue(1)),
                AckedOffset = Convert.ToInt64(r.GetValue(2)),
                AckedMessages = Convert.ToInt64(r.GetValue(3)),
                Done = Convert.ToInt32(r.GetValue(4)) != 0,
                DeliveryOffset = Convert.ToInt64(r.GetValue(5)),
                DeliveryCount = Convert.ToInt32(r.GetValue(6)),
                AvailableAtMs = Convert.ToInt64(r.GetValue(7)),
                LastReason = r.IsDBNull(8) ? null : r.GetString(8),
                AppliedSeek = Convert.ToInt32(r.GetValue(9)) is var seek and >= 0 ? seek : null,
            }),
            cancellationToken);
        // The finished prefix of the history becomes the watermark; the rest is the working set.
        var cutoff = time.GetUtcNow().ToUnixTimeMilliseconds() - (long)ConsumerGroupGrain.ClockSkewAllowance.TotalMilliseconds;
        var folding = true;
        foreach (var (chunk, progress) in rows.OrderBy(r => r.Progress.Position).ThenBy(r => r.Chunk, StringComparer.Ordinal))
        {
            if (folding && progress.Done && progress.Position < cutoff)
            {
                state.WatermarkPosition = progress.Position;
                state.WatermarkChunk = chunk;
                continue;
            }
            folding = false;
            state.Chunks[chunk] = progress;
        }
        return state;
    }

    /// <summary>Drops the tables (after every group in them was carried over).</summary>
    public async Task DropAsync(CancellationToken cancellationToken)
    {
        foreach (var table in (string[])["group_chunks", "group_watermarks", "consumer_groups"])
            await Runner.ExecuteAsync($"DROP TABLE IF EXISTS {table}", [], cancellationToken);
        _gone = true;
    }
}
