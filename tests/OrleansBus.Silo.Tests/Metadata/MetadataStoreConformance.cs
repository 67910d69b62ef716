using OrleansBus.Silo.Metadata;

namespace OrleansBus.Silo.Tests.Metadata;

/// <summary>
/// The <see cref="IMetadataStore"/> contract, run against every backend. xunit makes a new instance per
/// test, and each instance has its own empty storage; every <see cref="CreateStoreAsync"/> call within
/// one test opens another store on that same storage (as a second silo would), not yet migrated.
/// </summary>
public abstract partial class MetadataStoreConformance : IAsyncLifetime
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);
    private static readonly DateTimeOffset T0 = DateTimeOffset.FromUnixTimeMilliseconds(1_760_000_000_123);
    private readonly List<IMetadataStore> _stores = [];

    protected abstract Task<IMetadataStore> CreateStoreAsync();

    public virtual Task InitializeAsync() => Task.CompletedTask;

    public virtual async Task DisposeAsync()
    {
        foreach (var store in _stores)
            await store.DisposeAsync();
    }

    private async Task<IMetadataStore> OpenAsync()
    {
        var store = await CreateStoreAsync();
        _stores.Add(store);
        return store;
    }

    private async Task<IMetadataStore> MigratedAsync()
    {
        var store = await OpenAsync();
        await store.MigrateAsync(CancellationToken.None);
        return store;
    }

    private static async Task<T> Within<T>(Task<T> task, string what)
    {
        await Within((Task)task, what);
        return await task;
    }

    private static async Task Within(Task task, string what)
    {
        try
        {
            await task.WaitAsync(Patience);
        }
        catch (TimeoutException e)
        {
            throw new TimeoutException($"{what} did not finish within {Patience.TotalSeconds} s.", e);
        }
    }

    private static CategoryRecord Category(string name, long maxChunkBytes = 64 << 20) =>
        new(name, maxChunkBytes, 600_000, "page-cache", T0);

    private static ChunkRecord Chunk(string category, string owner, long seq, DateTimeOffset createdAt) =>
        new(category, $"{owner}-chunk{seq:000000000}", owner, seq, ChunkStates.Active, 0, 0, createdAt, null);

    [Fact]
    public async Task Migrate_is_idempotent_when_run_twice()
    {
        var store = await MigratedAsync();
        await store.MigrateAsync(CancellationToken.None);
        await store.PutCategoryAsync(Category("orders"), CancellationToken.None);

        var again = await MigratedAsync();

        Assert.Equal(["orders"], (await again.ListCategoriesAsync(CancellationToken.None)).Select(c => c.Name));
    }

    [Fact]
    public async Task Migrate_is_idempotent_when_two_stores_run_it_at_once_on_the_same_storage()
    {
        var a = await OpenAsync();
        var b = await OpenAsync();

        await Within(Task.WhenAll(a.MigrateAsync(CancellationToken.None), b.MigrateAsync(CancellationToken.None)), "Two concurrent migrations");
        await a.PutCategoryAsync(Category("orders"), CancellationToken.None);

        Assert.Equal("orders", (await b.GetCategoryAsync("orders", CancellationToken.None))?.Name);
    }

    [Fact]
    public async Task Ensure_category_inserts_defaults_once_and_then_returns_the_stored_record()
    {
        var store = await MigratedAsync();
        var first = Category("orders", maxChunkBytes: 1000);

        var created = await store.EnsureCategoryAsync(first, CancellationToken.None);
        var second = await store.EnsureCategoryAsync(first with { MaxChunkBytes = 2000, CreatedAt = T0.AddDays(1) }, CancellationToken.None);

        Assert.Equal(first, created);
        Assert.Equal(first, second);
        Assert.Equal(first, await store.GetCategoryAsync("orders", CancellationToken.None));
    }

    [Fact]
    public async Task Put_category_updates_settings_and_keeps_the_creation_time()
    {
        var store = await MigratedAsync();
        await store.PutCategoryAsync(Category("orders"), CancellationToken.None);

        await store.PutCategoryAsync(new CategoryRecord("orders", 4096, 1000, "fsync", T0.AddDays(1)), CancellationToken.None);

        Assert.Equal(new CategoryRecord("orders", 4096, 1000, "fsync", T0), await store.GetCategoryAsync("orders", CancellationToken.None));
        Assert.Null(await store.GetCategoryAsync("missing", CancellationToken.None));
    }

    [Fact]
    public async Task List_categories_is_ordered_by_name()
    {
        var store = await MigratedAsync();
        // Byte order, whatever the database locale: '-' (0x2D) < '.' (0x2E) < digits < letters.
        string[] names = ["b", "a.b", "a-b", "ab", "a0", "a"];
        foreach (var name in names)
            await store.PutCategoryAsync(Category(name), CancellationToken.None);

        var listed = await store.ListCategoriesAsync(CancellationToken.None);

        Assert.Equal(["a", "a-b", "a.b", "a0", "ab", "b"], listed.Select(c => c.Name));
    }

    [Fact]
    public async Task Delete_removes_the_category_and_its_chunks_but_sequences_continue()
    {
        var store = await MigratedAsync();
        await store.PutCategoryAsync(Category("orders"), CancellationToken.None);
        await store.PutCategoryAsync(Category("payments"), CancellationToken.None);
        for (var i = 0; i < 3; i++)
        {
            var seq = await store.NextChunkSequenceAsync("s1", "orders", CancellationToken.None);
            await store.AddChunkAsync(Chunk("orders", "s1", seq, T0.AddSeconds(i)), CancellationToken.None);
        }
        await store.AddChunkAsync(Chunk("payments", "s1", 0, T0), CancellationToken.None);

        Assert.True(await store.DeleteCategoryAsync("orders", CancellationToken.None));

        Assert.Null(await store.GetCategoryAsync("orders", CancellationToken.None));
        Assert.Empty(await store.ListChunksAsync("orders", CancellationToken.None));
        Assert.Single(await store.ListChunksAsync("payments", CancellationToken.None));
        Assert.Equal(3, await store.NextChunkSequenceAsync("s1", "orders", CancellationToken.None));
        Assert.False(await store.DeleteCategoryAsync("never-existed", CancellationToken.None));
    }

    [Fact]
    public async Task Sequences_start_at_zero_and_are_per_owner_and_category()
    {
        var store = await MigratedAsync();

        Assert.Equal(0, await store.NextChunkSequenceAsync("s1", "orders", CancellationToken.None));
        Assert.Equal(1, await store.NextChunkSequenceAsync("s1", "orders", CancellationToken.None));
        Assert.Equal(0, await store.NextChunkSequenceAsync("s2", "orders", CancellationToken.None));
        Assert.Equal(0, await store.NextChunkSequenceAsync("s1", "payments", CancellationToken.None));
        Assert.Equal(2, await store.NextChunkSequenceAsync("s1", "orders", CancellationToken.None));
    }

    [Fact]
    public async Task Fifty_concurrent_sequence_calls_on_two_stores_return_fifty_distinct_consecutive_numbers()
    {
        IMetadataStore[] stores = [await MigratedAsync(), await MigratedAsync()];

        var calls = new Task<long>[50];
        for (var i = 0; i < calls.Length; i++)
            calls[i] = stores[i % 2].NextChunkSequenceAsync("s1", "orders", CancellationToken.None);
        var numbers = await Within(Task.WhenAll(calls), "50 concurrent NextChunkSequenceAsync calls");

        Assert.Equal(Enumerable.Range(0, 50).Select(i => (long)i), numbers.Order());
    }

    [Fact]
    public async Task Add_update_and_list_chunks_round_trip_every_field()
    {
        var store = await MigratedAsync();
        var active = new ChunkRecord("orders", "s1-chunk000000007", "s1", 7, ChunkStates.Active, 123, 4, T0, null);
        var other = new ChunkRecord("orders", "s2-chunk000000000", "s2", 0, ChunkStates.Sealed, 1L << 40, 1L << 33, T0.AddMilliseconds(1), T0.AddMilliseconds(2));
        await store.AddChunkAsync(active, CancellationToken.None);
        await store.AddChunkAsync(other, CancellationToken.None);

        Assert.Equal([active, other], await store.ListChunksAsync("orders", CancellationToken.None));

        var sealedAt = T0.AddMinutes(10).AddMilliseconds(1);
        await store.UpdateChunkAsync("orders", active.Name, ChunkStates.Sealed, 64L << 20, 99_999, sealedAt, CancellationToken.None);
        var sealedChunk = active with { State = ChunkStates.Sealed, Size = 64L << 20, Messages = 99_999, SealedAt = sealedAt };
        Assert.Equal([sealedChunk, other], await store.ListChunksAsync("orders", CancellationToken.None));

        await store.UpdateChunkAsync("orders", other.Name, ChunkStates.Corrupt, other.Size, other.Messages, null, CancellationToken.None);
        Assert.Null((await store.ListChunksAsync("orders", CancellationToken.None))[1].SealedAt);
    }

    [Fact]
    public async Task Only_a_final_chunk_expires_and_nothing_leaves_the_expired_state()
    {
        var store = await MigratedAsync();
        var active = new ChunkRecord("orders", "s1-chunk000000000", "s1", 0, ChunkStates.Active, 10, 1, T0, null);
        var archived = new ChunkRecord("orders", "s1-chunk000000001", "s1", 1, ChunkStates.Archived, 20, 2, T0.AddMilliseconds(1), T0.AddMilliseconds(2));
        await store.AddChunkAsync(active, CancellationToken.None);
        await store.AddChunkAsync(archived, CancellationToken.None);

        Assert.False(await store.UpdateChunkAsync("orders", active.Name, ChunkStates.Expired, 10, 1, null, CancellationToken.None));
        Assert.True(await store.UpdateChunkAsync("orders", archived.Name, ChunkStates.Expired, 20, 2, archived.SealedAt, CancellationToken.None));
        // A late archived mark (an upload that finished after the expiry) or any other change loses.
        Assert.False(await store.UpdateChunkAsync("orders", archived.Name, ChunkStates.Archived, 20, 2, archived.SealedAt, CancellationToken.None));
        Assert.False(await store.UpdateChunkAsync("orders", archived.Name, ChunkStates.Sealed, 20, 2, archived.SealedAt, CancellationToken.None));

        Assert.Equal([active, archived with { State = ChunkStates.Expired }], await store.ListChunksAsync("orders", CancellationToken.None));
    }

    [Fact]
    public async Task Category_retention_settings_round_trip()
    {
        var store = await MigratedAsync();
        var record = new CategoryRecord("orders", 4096, 1000, "fsync", T0, RetentionMs: 7 * 86_400_000L, RetentionBytes: 10L << 30);
        await store.PutCategoryAsync(record, CancellationToken.None);
        Assert.Equal(record, await store.GetCategoryAsync("orders", CancellationToken.None));
    }

    [Fact]
    public async Task List_chunks_returns_oldest_first()
    {
        var store = await MigratedAsync();
        // Inserted out of order; equal times fall back to owner then numeric seq (10 after 9, not after 1).
        ChunkRecord[] expected =
        [
            Chunk("orders", "s2", 3, T0),
            Chunk("orders", "s1", 9, T0.AddMilliseconds(1)),
            Chunk("orders", "s1", 10, T0.AddMilliseconds(1)),
            Chunk("orders", "s2", 4, T0.AddMilliseconds(1)),
            Chunk("orders", "s1", 11, T0.AddSeconds(5)),
        ];
        foreach (var i in new[] { 4, 2, 0, 3, 1 })
            await store.AddChunkAsync(expected[i], CancellationToken.None);

        Assert.Equal(expected, await store.ListChunksAsync("orders", CancellationToken.None));
    }

    [Fact]
    public async Task Adding_the_same_chunk_twice_surfaces_as_a_metadata_store_exception()
    {
        var store = await MigratedAsync();
        var chunk = Chunk("orders", "s1", 0, T0);
        await store.AddChunkAsync(chunk, CancellationToken.None);

        var error = await Assert.ThrowsAsync<MetadataStoreException>(() => store.AddChunkAsync(chunk, CancellationToken.None));

        Assert.NotNull(error.InnerException);
        Assert.Single(await store.ListChunksAsync("orders", CancellationToken.None));
    }
}
