using Npgsql;
using NpgsqlTypes;

namespace OrleansBus.Silo.Metadata;

/// <summary>Command plumbing, and the one place PostgreSQL errors become <see cref="MetadataStoreException"/>.</summary>
public sealed partial class PostgresMetadataStore
{
    private Task<int> ExecuteAsync(string sql, Action<NpgsqlParameterCollection> bind, CancellationToken cancellationToken) =>
        TranslateAsync(async () =>
        {
            await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken);
            await using var command = new NpgsqlCommand(sql, connection);
            bind(command.Parameters);
            return await command.ExecuteNonQueryAsync(cancellationToken);
        });

    private Task<IReadOnlyList<T>> QueryAsync<T>(
        string sql, Action<NpgsqlParameterCollection> bind, Func<NpgsqlDataReader, T> read, CancellationToken cancellationToken) =>
        TranslateAsync(async () =>
        {
            await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken);
            await using var command = new NpgsqlCommand(sql, connection);
            bind(command.Parameters);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            var rows = new List<T>();
            while (await reader.ReadAsync(cancellationToken))
                rows.Add(read(reader));
            return (IReadOnlyList<T>)rows;
        });

    // Opening a connection is inside the body too: an unreachable server is a store error like any other.
    private static async Task<T> TranslateAsync<T>(Func<Task<T>> body)
    {
        try
        {
            return await body();
        }
        catch (PostgresException e)
        {
            throw new MetadataStoreException($"PostgreSQL metadata store error {e.SqlState}: {e.MessageText}", e);
        }
        catch (NpgsqlException e)
        {
            throw new MetadataStoreException($"PostgreSQL metadata store unavailable: {e.Message}", e);
        }
    }

    private static CategoryRecord ReadCategory(NpgsqlDataReader r) => new(
        r.GetString(0), r.GetInt64(1), r.GetInt64(2), r.GetString(3), DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(4)));

    private static void AddCategory(NpgsqlParameterCollection p, CategoryRecord record)
    {
        p.AddWithValue("name", record.Name);
        p.AddWithValue("bytes", record.MaxChunkBytes);
        p.AddWithValue("age", record.MaxChunkAgeMs);
        p.AddWithValue("durability", record.DefaultDurability);
        p.AddWithValue("created", record.CreatedAt.ToUnixTimeMilliseconds());
    }

    // Typed explicitly: a bare DBNull carries no type, and the column is bigint milliseconds.
    private static void AddMillis(NpgsqlParameterCollection p, string name, DateTimeOffset? value) =>
        p.Add(new NpgsqlParameter(name, NpgsqlDbType.Bigint) { Value = (object?)value?.ToUnixTimeMilliseconds() ?? DBNull.Value });
}
