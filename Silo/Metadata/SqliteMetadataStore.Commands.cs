using Microsoft.Data.Sqlite;

namespace OrleansBus.Silo.Metadata;

/// <summary>Command plumbing, and the one place SQLite errors become <see cref="MetadataStoreException"/>.</summary>
public sealed partial class SqliteMetadataStore
{
    /// <summary>
    /// Opens a pooled connection. <paramref name="durable"/> false (consumer-group offsets and leases) commits
    /// without an fsync of the WAL: a power loss may forget the last acks, which then redeliver — at-least-once
    /// allows that — while the catalog (sealed state, sequences) keeps synchronous=FULL.
    /// </summary>
    private async Task<SqliteConnection> OpenAsync(CancellationToken cancellationToken, bool durable = true)
    {
        var connection = new SqliteConnection(_connectionString);
        try
        {
            await connection.OpenAsync(cancellationToken);
            await using var pragma = connection.CreateCommand();
            pragma.CommandText = durable ? "PRAGMA synchronous=FULL; PRAGMA busy_timeout=30000;" : "PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=30000;";
            await pragma.ExecuteNonQueryAsync(cancellationToken);
            return connection;
        }
        catch (SqliteException e)
        {
            await connection.DisposeAsync();
            throw new MetadataStoreException($"Cannot open the SQLite metadata store: {e.Message}", e);
        }
    }

    private async Task<int> ExecuteAsync(string sql, Action<SqliteParameterCollection> bind, CancellationToken cancellationToken, bool durable = true)
    {
        await using var connection = await OpenAsync(cancellationToken, durable);
        return await TranslateAsync(async () =>
        {
            await using var command = connection.CreateCommand();
            command.CommandText = sql;
            bind(command.Parameters);
            return await command.ExecuteNonQueryAsync(cancellationToken);
        });
    }

    private async Task<IReadOnlyList<T>> QueryAsync<T>(
        string sql, Action<SqliteParameterCollection> bind, Func<SqliteDataReader, T> read, CancellationToken cancellationToken, bool durable = true)
    {
        await using var connection = await OpenAsync(cancellationToken, durable);
        return await TranslateAsync(async () =>
        {
            await using var command = connection.CreateCommand();
            command.CommandText = sql;
            bind(command.Parameters);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            var rows = new List<T>();
            while (await reader.ReadAsync(cancellationToken))
                rows.Add(read(reader));
            return (IReadOnlyList<T>)rows;
        });
    }

    private static async Task<T> TranslateAsync<T>(Func<Task<T>> body)
    {
        try
        {
            return await body();
        }
        catch (SqliteException e)
        {
            throw new MetadataStoreException($"SQLite metadata store error {e.SqliteErrorCode}: {e.Message}", e);
        }
    }

    private static CategoryRecord ReadCategory(SqliteDataReader r) => new(
        r.GetString(0), r.GetInt64(1), r.GetInt64(2), r.GetString(3), DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(4)));

    private static void AddCategory(SqliteParameterCollection p, CategoryRecord record)
    {
        p.AddWithValue("$name", record.Name);
        p.AddWithValue("$bytes", record.MaxChunkBytes);
        p.AddWithValue("$age", record.MaxChunkAgeMs);
        p.AddWithValue("$durability", record.DefaultDurability);
        p.AddWithValue("$created", record.CreatedAt.ToUnixTimeMilliseconds());
    }
}
