using System.Data.Common;

namespace OrleansBus.Silo.Metadata;

/// <summary>
/// The few operations shared SQL needs from a backend, so logic written once (<see cref="SqlGroupStore"/>)
/// runs on SQLite and PostgreSQL alike. Parameters are named <c>@name</c> (both drivers accept it).
/// Implementations translate their driver's errors into <see cref="MetadataStoreException"/>.
/// </summary>
internal interface ISqlRunner
{
    bool SupportsSkipLocked { get; }

    Task<int> ExecuteAsync(string sql, SqlArgs args, CancellationToken cancellationToken);

    Task<IReadOnlyList<T>> QueryAsync<T>(string sql, SqlArgs args, Func<DbDataReader, T> read, CancellationToken cancellationToken);

    /// <summary>
    /// Runs the statements in one transaction. When <paramref name="guarded"/>, the first statement is a guard: if it
    /// changes no row the transaction is rolled back and the call returns false (someone else already did the work).
    /// </summary>
    Task<bool> ExecuteInTransactionAsync(IReadOnlyList<(string Sql, SqlArgs Args)> statements, CancellationToken cancellationToken, bool guarded = false);
}

/// <summary>Named parameters; null becomes SQL NULL.</summary>
internal sealed class SqlArgs : List<KeyValuePair<string, object?>>
{
    public SqlArgs Add(string name, object? value)
    {
        Add(new KeyValuePair<string, object?>(name, value));
        return this;
    }

    public void BindTo(DbParameterCollection parameters)
    {
        foreach (var (name, value) in this)
        {
            switch (parameters)
            {
                case Microsoft.Data.Sqlite.SqliteParameterCollection sqlite:
                    sqlite.AddWithValue(name, value ?? DBNull.Value);
                    break;
                case Npgsql.NpgsqlParameterCollection npgsql:
                    npgsql.AddWithValue(name, value ?? DBNull.Value);
                    break;
                default:
                    throw new NotSupportedException(parameters.GetType().Name);
            }
        }
    }
}
