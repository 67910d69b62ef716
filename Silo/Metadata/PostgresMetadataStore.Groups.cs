using System.Data.Common;
using Npgsql;
using OrleansBus.Silo.Groups;

namespace OrleansBus.Silo.Metadata;

/// <summary>Consumer-group state through the shared SQL of <see cref="SqlGroupStore"/>.</summary>
public sealed partial class PostgresMetadataStore : ISqlRunner
{
    private SqlGroupStore? _groups;

    public IGroupStore Groups => _groups ??= new SqlGroupStore(this);

    bool ISqlRunner.SupportsSkipLocked => true;

    Task<int> ISqlRunner.ExecuteAsync(string sql, SqlArgs args, CancellationToken cancellationToken) =>
        ExecuteAsync(sql, p => args.BindTo(p), cancellationToken);

    Task<IReadOnlyList<T>> ISqlRunner.QueryAsync<T>(string sql, SqlArgs args, Func<DbDataReader, T> read, CancellationToken cancellationToken) =>
        QueryAsync(sql, p => args.BindTo(p), r => read(r), cancellationToken);

    Task<bool> ISqlRunner.ExecuteInTransactionAsync(IReadOnlyList<(string Sql, SqlArgs Args)> statements, CancellationToken cancellationToken, bool guarded) =>
        TranslateAsync(async () =>
        {
            await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken);
            await using var tx = await connection.BeginTransactionAsync(cancellationToken);
            for (var i = 0; i < statements.Count; i++)
            {
                await using var command = new NpgsqlCommand(statements[i].Sql, connection, tx);
                statements[i].Args.BindTo(command.Parameters);
                // A guard blocks on the row another transaction is changing, then re-checks its WHERE: exactly one wins.
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
