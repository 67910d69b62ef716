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

    Task ISqlRunner.ExecuteInTransactionAsync(IReadOnlyList<(string Sql, SqlArgs Args)> statements, CancellationToken cancellationToken) =>
        TranslateAsync(async () =>
        {
            await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken);
            await using var tx = await connection.BeginTransactionAsync(cancellationToken);
            foreach (var (sql, args) in statements)
            {
                await using var command = new NpgsqlCommand(sql, connection, tx);
                args.BindTo(command.Parameters);
                await command.ExecuteNonQueryAsync(cancellationToken);
            }
            await tx.CommitAsync(cancellationToken);
            return 0;
        });
}
