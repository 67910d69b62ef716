using Npgsql;
using OrleansBus.Silo.Metadata;
using OrleansBus.Testing;

namespace OrleansBus.Silo.Tests.Metadata;

/// <summary>One database per test class on the shared real PostgreSQL server.</summary>
public sealed class PostgresMetadataDatabase : IAsyncLifetime
{
    public string ConnectionString { get; private set; } = "";

    public async Task InitializeAsync()
    {
        var server = await PostgresServer.SharedAsync();
        ConnectionString = await server.CreateDatabaseAsync($"metadata_{Guid.NewGuid():N}");
    }

    public Task DisposeAsync() => Task.CompletedTask;
}

/// <summary>
/// The conformance suite on PostgreSQL. The class has its own database; each test has its own schema in
/// it, which also exercises creating the schema when it is missing.
/// </summary>
public sealed class PostgresMetadataStoreTests(PostgresMetadataDatabase database)
    : MetadataStoreConformance, IClassFixture<PostgresMetadataDatabase>
{
    private readonly string _schema = $"t_{Guid.NewGuid():N}";

    protected override Task<IMetadataStore> CreateStoreAsync() =>
        Task.FromResult<IMetadataStore>(new PostgresMetadataStore(database.ConnectionString, _schema));

    [Fact]
    public async Task Stores_in_two_schemas_of_one_database_do_not_see_each_other()
    {
        await using var mine = new PostgresMetadataStore(database.ConnectionString, _schema);
        await using var theirs = new PostgresMetadataStore(database.ConnectionString, _schema + "_other");
        await mine.MigrateAsync(CancellationToken.None);
        await theirs.MigrateAsync(CancellationToken.None);

        await mine.PutCategoryAsync(new CategoryRecord("orders", 1, 1, "fsync", DateTimeOffset.UnixEpoch), CancellationToken.None);

        Assert.Empty(await theirs.ListCategoriesAsync(CancellationToken.None));
        Assert.Equal(0, await theirs.NextChunkSequenceAsync("s1", "orders", CancellationToken.None));
        Assert.Equal(0, await mine.NextChunkSequenceAsync("s1", "orders", CancellationToken.None));
        Assert.Equal(1, await CountTablesAsync(_schema + "_other", "categories"));
        Assert.Equal(0, await CountTablesAsync("public", "categories"));
    }

    [Fact]
    public async Task An_unreachable_server_surfaces_as_a_metadata_store_exception()
    {
        // Port 1 on loopback: nothing listens, the connect is refused at once.
        var builder = new NpgsqlConnectionStringBuilder(database.ConnectionString) { Port = 1, Timeout = 5 };
        await using var store = new PostgresMetadataStore(builder.ConnectionString, _schema);

        await Assert.ThrowsAsync<MetadataStoreException>(() => store.MigrateAsync(CancellationToken.None));
    }

    [Fact]
    public async Task A_restart_of_the_server_costs_no_request_the_killed_connection_is_retried_on_a_new_one()
    {
        await using var server = await PostgresServer.StartNewAsync(); // its own: the shared one must not restart
        var connectionString = await server.CreateDatabaseAsync("restart");
        await using var store = new PostgresMetadataStore(connectionString, _schema);
        await store.MigrateAsync(CancellationToken.None);
        await store.PutCategoryAsync(new CategoryRecord("orders", 1, 1, "fsync", DateTimeOffset.UnixEpoch), CancellationToken.None);

        await server.RestartAsync(); // the pooled connection is terminated (57P01) while idle

        Assert.Equal("orders", Assert.Single(await store.ListCategoriesAsync(CancellationToken.None)).Name);
        await store.PutCategoryAsync(new CategoryRecord("audit", 1, 1, "fsync", DateTimeOffset.UnixEpoch), CancellationToken.None);
        Assert.Equal(2, (await store.ListCategoriesAsync(CancellationToken.None)).Count);
    }

    [Theory]
    [InlineData("57P01", true)]
    [InlineData("57P03", true)]
    [InlineData("08006", true)]
    [InlineData("23505", false)] // a unique violation is an answer, not a lost connection: never re-run
    [InlineData("42P01", false)]
    public void Only_a_lost_connection_is_retried(string sqlState, bool retried) =>
        Assert.Equal(retried, PostgresMetadataStore.IsConnectionLost(new PostgresException("m", "FATAL", "FATAL", sqlState)));

    private async Task<long> CountTablesAsync(string schema, string table)
    {
        await using var connection = new NpgsqlConnection(database.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = @schema AND table_name = @table", connection);
        command.Parameters.AddWithValue("schema", schema);
        command.Parameters.AddWithValue("table", table);
        return (long)(await command.ExecuteScalarAsync())!;
    }
}
