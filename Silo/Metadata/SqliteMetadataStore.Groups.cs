using System.Data.Common;
using Microsoft.Data.Sqlite;
using OrleansBus.Silo.Groups;

namespace OrleansBus.Silo.Metadata;

/// <summary>Consumer-group state through the shared SQL of <see cref="SqlGroupStore"/>.</summary>
public sealed partial class SqliteMetadataStore : ISqlRunner
{
    private SqlGroupStore? _groups;

    public IGroupStore Groups => _groups ??= new SqlGroupStore(this);

    // SQLite has one writer at a time: a conditional UPDATE is already exclusive.
    bool ISqlRunner.SupportsSkipLocked => false;

    Task<int> ISqlRunner.ExecuteAsync(string sql, SqlArgs args, CancellationToken cancellationToken) =>
        ExecuteAsync(sql, p => args.BindTo(p), cancellationToken);

    Task<IReadOnlyList<T>> ISqlRunner.QueryAsync<T>(string sql, SqlArgs args, Func<DbDataReader, T> read, CancellationToken cancellationToken) =>
        QueryAsync(sql, p => args.BindTo(p), r => read(r), cancellationToken);

    async Task ISqlRunner.ExecuteInTransactionAsync(IReadOnlyList<(string Sql, SqlArgs Args)> statements, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await TranslateAsync(async () =>
        {
            await using var tx = (SqliteTransaction)await connection.BeginTransactionAsync(cancellationToken);
            foreach (var (sql, args) in statements)
            {
                await using var command = connection.CreateCommand();
                command.Transaction = tx;
                command.CommandText = sql;
                args.BindTo(command.Parameters);
                await command.ExecuteNonQueryAsync(cancellationToken);
            }
            await tx.CommitAsync(cancellationToken);
            return 0;
        });
    }
}
