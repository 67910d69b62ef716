using System.Data.Common;
using Microsoft.Data.Sqlite;

namespace OrleansBus.Silo.Metadata;

/// <summary>
/// <see cref="IMetadataStore"/> on an SQLite file (the embedded single-node default). WAL mode; the catalog commits
/// with synchronous=FULL (a sealed state that a power loss could roll back would break "sealed is persisted"),
/// consumer-group offsets with NORMAL (see <see cref="SqlMetadataStore"/>). SQLite has one writer at a time, so a
/// conditional UPDATE is already exclusive (no SKIP LOCKED needed). Connections are pooled; each call opens one.
/// </summary>
public sealed class SqliteMetadataStore : SqlMetadataStore
{
    private readonly string _connectionString;
    private readonly System.Runtime.CompilerServices.ConditionalWeakTable<SQLitePCL.sqlite3, ConnectionMode> _modes = new();

    public SqliteMetadataStore(string databasePath)
    {
        _connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = databasePath,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Pooling = true,
            DefaultTimeout = 30,
        }.ToString();
    }

    private protected override string ByteOrder => ""; // SQLite's default BINARY collation compares bytes
    private protected override string TableExistsSql => "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = @name";

    public override async Task MigrateAsync(CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(durable: true, cancellationToken);
        await TranslateAsync(async () =>
        {
            await using (var pragma = connection.CreateCommand())
            {
                pragma.CommandText = "PRAGMA journal_mode=WAL;";
                await pragma.ExecuteNonQueryAsync(cancellationToken);
            }
            await using var tx = (SqliteTransaction)await connection.BeginTransactionAsync(cancellationToken);
            await using var version = connection.CreateCommand();
            version.Transaction = tx;
            version.CommandText = """
                CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL);
                INSERT INTO schema_version (version) SELECT 0 WHERE NOT EXISTS (SELECT 1 FROM schema_version);
                SELECT version FROM schema_version;
                """;
            for (var i = Convert.ToInt32(await version.ExecuteScalarAsync(cancellationToken)); i < Migrations.Length; i++)
            {
                await using var command = connection.CreateCommand();
                command.Transaction = tx;
                command.CommandText = Migrations[i] + $"\nUPDATE schema_version SET version = {i + 1};";
                await command.ExecuteNonQueryAsync(cancellationToken);
            }
            await using (var orleans = connection.CreateCommand())
            {
                orleans.Transaction = tx;
                orleans.CommandText = OrleansTables.Sqlite;
                await orleans.ExecuteNonQueryAsync(cancellationToken);
            }
            await tx.CommitAsync(cancellationToken);
            return 0;
        });
    }

    private protected override async Task<int> ExecuteAsync(string sql, SqlArgs args, bool durable, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(durable, cancellationToken);
        return await TranslateAsync(async () =>
        {
            await using var command = connection.CreateCommand();
            command.CommandText = sql;
            args.BindTo(command.Parameters);
            return await command.ExecuteNonQueryAsync(cancellationToken);
        });
    }

    private protected override async Task<IReadOnlyList<T>> QueryAsync<T>(string sql, SqlArgs args, Func<DbDataReader, T> read, bool durable, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(durable, cancellationToken);
        return await TranslateAsync(async () =>
        {
            await using var command = connection.CreateCommand();
            command.CommandText = sql;
            args.BindTo(command.Parameters);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            var rows = new List<T>();
            while (await reader.ReadAsync(cancellationToken))
                rows.Add(read(reader));
            return (IReadOnlyList<T>)rows;
        });
    }

    private protected override async Task<bool> ExecuteInTransactionAsync(IReadOnlyList<(string Sql, SqlArgs Args)> statements, bool guarded, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(durable: !guarded, cancellationToken);
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

    private async Task<SqliteConnection> OpenAsync(bool durable, CancellationToken cancellationToken)
    {
        var connection = new SqliteConnection(_connectionString);
        try
        {
            await connection.OpenAsync(cancellationToken);
            // PRAGMAs stay set on a pooled connection, so each one is configured only when its mode changes:
            // a PRAGMA statement per call cost about as much as the query it preceded.
            var mode = _modes.GetOrCreateValue(connection.Handle!);
            var wanted = durable ? SyncMode.Full : SyncMode.Normal;
            if (mode.Current != wanted)
            {
                await using var pragma = connection.CreateCommand();
                pragma.CommandText = durable ? "PRAGMA synchronous=FULL; PRAGMA busy_timeout=30000;" : "PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=30000;";
                await pragma.ExecuteNonQueryAsync(cancellationToken);
                mode.Current = wanted;
            }
            return connection;
        }
        catch (SqliteException e)
        {
            await connection.DisposeAsync();
            throw new MetadataStoreException($"Cannot open the SQLite metadata store: {e.Message}", e);
        }
    }

    private enum SyncMode { Unset, Normal, Full }

    /// <summary>The synchronous setting of one pooled native connection (a connection is used by one caller at a time).</summary>
    private sealed class ConnectionMode
    {
        public SyncMode Current;
    }

    /// <summary>The one place SQLite errors become <see cref="MetadataStoreException"/>.</summary>
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

    public override ValueTask DisposeAsync()
    {
        SqliteConnection.ClearAllPools();
        return ValueTask.CompletedTask;
    }
}
