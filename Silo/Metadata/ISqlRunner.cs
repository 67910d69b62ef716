using System.Data.Common;

namespace OrleansBus.Silo.Metadata;

/// <summary>
/// The few operations shared SQL needs from a backend, so logic written once (<see cref="SqlMetadataStore"/>,
/// <see cref="SqlClusterStore"/>) runs on SQLite and PostgreSQL alike. Parameters are named <c>@name</c> (both
/// drivers accept it). Implementations translate their driver's errors into <see cref="MetadataStoreException"/>.
/// </summary>
internal interface ISqlRunner
{
    Task<int> ExecuteAsync(string sql, SqlArgs args, CancellationToken cancellationToken);

    Task<IReadOnlyList<T>> QueryAsync<T>(string sql, SqlArgs args, Func<DbDataReader, T> read, CancellationToken cancellationToken);

    /// <summary>
    /// Runs the statements in one transaction. When <paramref name="guarded"/>, the first statement is a guard: if it
    /// changes no row the transaction is rolled back and the call returns false (someone else already did the work).
    /// </summary>
    Task<bool> ExecuteInTransactionAsync(IReadOnlyList<(string Sql, SqlArgs Args)> statements, CancellationToken cancellationToken, bool guarded = false);
}

/// <summary>
/// Named parameters with their CLR types, so a null still binds as a typed SQL NULL (PostgreSQL cannot infer
/// the type of a bare NULL parameter everywhere).
/// </summary>
internal sealed class SqlArgs : List<(string Name, object? Value, Type Type)>
{
    public SqlArgs Add(string name, string? value) => With(name, value, typeof(string));

    public SqlArgs Add(string name, long? value) => With(name, value, typeof(long));

    public SqlArgs Add(string name, int value) => With(name, value, typeof(int));

    private SqlArgs With(string name, object? value, Type type)
    {
        Add((name, value, type));
        return this;
    }

    public void BindTo(DbParameterCollection parameters)
    {
        foreach (var (name, value, type) in this)
        {
            switch (parameters)
            {
                case Microsoft.Data.Sqlite.SqliteParameterCollection sqlite:
                    sqlite.AddWithValue(name, value ?? DBNull.Value);
                    break;
                case Npgsql.NpgsqlParameterCollection npgsql:
                    npgsql.Add(new Npgsql.NpgsqlParameter(name, NpgsqlType(type)) { Value = value ?? DBNull.Value });
                    break;
                default:
                    throw new NotSupportedException(parameters.GetType().Name);
            }
        }
    }

    private static NpgsqlTypes.NpgsqlDbType NpgsqlType(Type type) =>
        type == typeof(long) ? NpgsqlTypes.NpgsqlDbType.Bigint
        : type == typeof(int) ? NpgsqlTypes.NpgsqlDbType.Integer
        : NpgsqlTypes.NpgsqlDbType.Text;
}
