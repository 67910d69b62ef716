using OrleansBus.Silo.Metadata;
using OrleansBus.Testing;

namespace OrleansBus.Silo.Tests.Metadata;

/// <summary>The consumer groups' SQLite connections commit without an fdatasync (NORMAL on WAL); the catalog's stay FULL.</summary>
public sealed class RelaxedSqliteDataSourceTests
{
    [Fact]
    public async Task Connections_from_the_group_data_source_open_with_synchronous_normal_on_the_catalogs_wal()
    {
        using var dir = new TempDirectory("relaxed-sqlite");
        var path = dir.Combine("metadata.db");
        await using (var catalog = new SqliteMetadataStore(path))
            await catalog.MigrateAsync(CancellationToken.None); // switches the file to WAL
        await using var source = new RelaxedSqliteDataSource($"Data Source={path};Pooling=False");
        await using var connection = source.CreateConnection();
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA synchronous";
        Assert.Equal(1L, await command.ExecuteScalarAsync()); // 1 = NORMAL (FULL is 2)
        command.CommandText = "PRAGMA journal_mode";
        Assert.Equal("wal", await command.ExecuteScalarAsync());
    }
}
