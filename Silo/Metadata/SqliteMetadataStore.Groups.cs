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
        ExecuteAsync(sql, p => args.BindTo(p), cancellationToken, durable: false);

    Task<IReadOnlyList<T>> ISqlRunner.QueryAsync<T>(string sql, SqlArgs args, Func<DbDataReader, T> read, CancellationToken cancellationToken) =>
        QueryAsync(sql, p => args.BindTo(p), r => read(r), cancellationToken, durable: false);

    async Task<bool> ISqlRunner.ExecuteInTransactionAsync(IReadOnlyList<(string Sql, SqlArgs Args)> statements, CancellationToken cancellationToken, bool guarded)
    {
        await using var connection = await OpenAsync(cancellationToken, durable: false);
        return await TranslateAsync(async () =>
        {
            await using var tx = (SqliteTransaction)await connection.BeginTransactionAsync(cancellationToken);
            for (var i = 0; i < statements.Count; i++)
            {
                await using var command = connection.CreateCommand();
                command.Transaction = tx;
                command.CommandText = statements[i].Sql;
                statements[i].Args.BindTo(command.Parameters);
                if (await command.ExecuteNonQueryAsync(cancellationToken) == 0 && guarded && i == 0)
                {
                    await tx.RollbackAsync(cancellationToken);
                    return false;
                }
            }
            await tx.CommitAsync(cancellationToken);
            return true;
        });
    }
}
