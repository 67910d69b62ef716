using OrleansBus.Silo.Metadata;
using OrleansBus.Testing;

namespace OrleansBus.Silo.Tests.Metadata;

/// <summary>The conformance suite on an SQLite file; each test gets its own folder.</summary>
public sealed class SqliteMetadataStoreTests : MetadataStoreConformance
{
    private readonly TempDirectory _dir = new("metadata");

    protected override Task<IMetadataStore> CreateStoreAsync() =>
        Task.FromResult<IMetadataStore>(new SqliteMetadataStore(_dir.Combine("metadata.db")));

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        _dir.Dispose();
    }
}
