using System.Data.Common;
using Npgsql;

namespace OrleansBus.Silo.Metadata;

/// <summary>
/// <see cref="IMetadataStore"/> on PostgreSQL (the cluster backend): every silo of a cluster shares one
/// database, so sequence numbers and the catalog are consistent across silos. Thread safe; each call
/// takes a connection from the <see cref="NpgsqlDataSource"/> pool. All tables live in one schema
/// (default <c>public</c>), selected through the connection's search path, so several clusters or test
/// classes can share a database. Columns mirror <see cref="SqliteMetadataStore"/> exactly (timestamps
/// are bigint Unix milliseconds), so the two stores answer the conformance suite identically.
/// </summary>
public sealed class PostgresMetadataStore : SqlMetadataStore
{
    // Arbitrary but fixed ("OBUSMETA"): every silo of every version must take the same key, or two
    // silos starting at once would both see version 0 and both run the first migration.
    private const long MigrationLockKey = 0x4F42_5553_4D45_5441;

    private readonly NpgsqlDataSource _dataSource;
    private readonly string _quotedSchema;

    public PostgresMetadataStore(string connectionString, string schema = "public")
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(schema);
        _quotedSchema = QuoteIdentifier(schema);
        // Only this schema on the path: an unqualified name can never resolve to another schema's table.
        var builder = new NpgsqlConnectionStringBuilder(connectionString) { SearchPath = _quotedSchema };
        _dataSource = NpgsqlDataSource.Create(builder);
    }

    public override Task MigrateAsync(CancellationToken cancellationToken) =>
        TranslateAsync(async () =>
        {
            await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken);
            await using var tx = await connection.BeginTransactionAsync(cancellationToken);
            // Held until commit; serializes creating the schema too (concurrent CREATE SCHEMA IF NOT
            // EXISTS can fail with a unique violation).
            await using (var command = new NpgsqlCommand($"SELECT pg_advisory_xact_lock({MigrationLockKey})", connection, tx))
                await command.ExecuteNonQueryAsync(cancellationToken);
            var version = await SchemaVersionAsync(connection, tx, cancellationToken);
            for (var i = version; i < Migrations.Length; i++)
            {
                await using var command = new NpgsqlCommand(
                    Migrations[i] + $"\nUPDATE schema_version SET version = {i + 1};", connection, tx);
                await command.ExecuteNonQueryAsync(cancellationToken);
            }
            await using (var command = new NpgsqlCommand(OrleansTables.Postgres, connection, tx))
                await command.ExecuteNonQueryAsync(cancellationToken);
            await tx.CommitAsync(cancellationToken);
            return 0;
        });

    /// <summary>A schema or table name as a quoted PostgreSQL identifier.</summary>
    public static string QuoteIdentifier(string name) => "\"" + name.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";

    private async Task<int> SchemaVersionAsync(NpgsqlConnection connection, NpgsqlTransaction tx, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(
            $"""
            CREATE SCHEMA IF NOT EXISTS {_quotedSchema};
            CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL);
            INSERT INTO schema_version (version) SELECT 0 WHERE NOT EXISTS (SELECT 1 FROM schema_version);
            SELECT version FROM schema_version;
            """,
            connection, tx);
        return Convert.ToInt32(await command.ExecuteScalarAsync(cancellationToken));
    }

    private protected override string ByteOrder => " COLLATE \"C\"";
    private protected override string TableExistsSql =>
        "SELECT count(*) FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = @name";

    // PostgreSQL commits are as durable as the server is configured; there is no per-statement choice to make here.
    private protected override Task<int> ExecuteAsync(string sql, SqlArgs args, bool durable, CancellationToken cancellationToken) =>
        TranslateAsync(async () =>
        {
            await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken);
            await using var command = new NpgsqlCommand(sql, connection);
            args.BindTo(command.Parameters);
            return await command.ExecuteNonQueryAsync(cancellationToken);
        });

    private protected override Task<IReadOnlyList<T>> QueryAsync<T>(string sql, SqlArgs args, Func<DbDataReader, T> read, bool durable, CancellationToken cancellationToken) =>
        TranslateAsync(async () =>
        {
            await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken);
            await using var command = new NpgsqlCommand(sql, connection);
            args.BindTo(command.Parameters);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            var rows = new List<T>();
            while (await reader.ReadAsync(cancellationToken))
                rows.Add(read(reader));
            return (IReadOnlyList<T>)rows;
        });

    private protected override Task<bool> ExecuteInTransactionAsync(IReadOnlyList<(string Sql, SqlArgs Args)> statements, bool guarded, CancellationToken cancellationToken) =>
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

    /// <summary>
    /// The one place PostgreSQL errors become <see cref="MetadataStoreException"/>; opening a connection is inside it too.
    /// A connection the server ended (a restart's 57P01, a crash, a broken socket) is retried once on a new one first:
    /// the pool drops a broken connection, so the retry opens a fresh one. The work is a single statement or one
    /// transaction, and a transaction cut off before its commit answered did not commit — so running it again cannot
    /// apply it twice, except when the server dies in the instant between committing and answering, which the guarded
    /// writes (exactly one of two racers wins) absorb.
    /// </summary>
    private static async Task<T> TranslateAsync<T>(Func<Task<T>> body)
    {
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                return await body();
            }
            catch (NpgsqlException e) when (attempt == 0 && IsConnectionLost(e))
            {
                await Task.Delay(RetryPause);
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
    }

    private static readonly TimeSpan RetryPause = TimeSpan.FromMilliseconds(200);

    // 57P01 admin_shutdown (a restart), 57P02 crash_shutdown, 57P03 cannot_connect_now (still starting), class 08
    // (connection exceptions); a non-server NpgsqlException is the socket itself breaking or refusing.
    internal static bool IsConnectionLost(NpgsqlException e) => e is PostgresException server
        ? server.SqlState is "57P01" or "57P02" or "57P03" || server.SqlState.StartsWith("08", StringComparison.Ordinal)
        : e.IsTransient || e.InnerException is System.Net.Sockets.SocketException or IOException;

    public override ValueTask DisposeAsync() => _dataSource.DisposeAsync();
}
