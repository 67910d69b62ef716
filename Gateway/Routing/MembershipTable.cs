using Npgsql;

namespace OrleansBus.Gateway.Routing;

/// <summary>One row of the silos' membership table.</summary>
internal readonly record struct MembershipRow(string SiloId, string Address, long Epoch, long HeartbeatAtMs, string State);

/// <summary>
/// Reads <c>&lt;schema&gt;.silos</c>, the table the silos create and heartbeat into (every 2 s, unix ms). Read-only:
/// the gateway never writes membership. Errors propagate as <see cref="NpgsqlException"/> (unreachable, or
/// SQLSTATE 42P01 while no silo has created the table yet); <see cref="SiloRefresher"/> decides what they mean.
/// </summary>
internal sealed class MembershipTable : IAsyncDisposable
{
    private readonly NpgsqlDataSource _dataSource;
    private readonly string _sql;

    public MembershipTable(string connectionString, string schema)
    {
        _dataSource = NpgsqlDataSource.Create(connectionString);
        // The schema passed validation (plain identifier), so quoting it is enough.
        _sql = $"SELECT silo_id, address, epoch, heartbeat_at, state FROM \"{schema}\".silos";
    }

    public async Task<List<MembershipRow>> ReadAsync(CancellationToken cancellationToken)
    {
        await using var command = _dataSource.CreateCommand(_sql);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var rows = new List<MembershipRow>();
        while (await reader.ReadAsync(cancellationToken))
            rows.Add(new MembershipRow(reader.GetString(0), reader.GetString(1), reader.GetInt64(2), reader.GetInt64(3), reader.GetString(4)));
        return rows;
    }

    public ValueTask DisposeAsync() => _dataSource.DisposeAsync();
}
