using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OrleansBus.Contracts;
using OrleansBus.Silo.Hosting;
using OrleansBus.Silo.Metadata;

namespace OrleansBus.Silo.Storage;

/// <summary>
/// All categories on this silo. Layout: <c>&lt;DataDir&gt;/categories/&lt;category&gt;/&lt;chunk&gt;</c> (+ <c>.idx</c>),
/// <c>&lt;DataDir&gt;/metadata.db</c>, <c>&lt;DataDir&gt;/.lock</c>. Category folders sit under their own
/// parent so no valid category name (say "metadata.db") can collide with the silo's own files.
/// Started once (recovery included) before the server takes requests; thread safe afterwards.
/// </summary>
public sealed partial class LogStore : IAsyncDisposable
{
    private readonly BusOptions _options;
    private readonly IMetadataStore _metadata;
    private readonly TimeProvider _time;
    private readonly ILogger<LogStore> _logger;
    private readonly ConcurrentDictionary<string, CategoryLog> _categories = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _createLock = new(1, 1);
    private DataDirectoryLock? _lock;
    private volatile bool _ready;

    /// <param name="claimed">This folder's lock when start-up already holds it (<see cref="Hosting.SiloSlot"/>).</param>
    public LogStore(IOptions<BusOptions> options, IMetadataStore metadata, TimeProvider time, ILogger<LogStore> logger, DataDirectoryLock? claimed = null)
    {
        _options = options.Value;
        _metadata = metadata;
        _time = time;
        _logger = logger;
        DataDir = Path.GetFullPath(_options.DataDir);
        CategoriesDir = Path.Combine(DataDir, "categories");
        _lock = claimed?.DataDir == DataDir ? claimed : null;
        Telemetry.StoreGauges.Track(this);
    }

    public string DataDir { get; }
    public string CategoriesDir { get; }
    public string SiloId => _options.SiloId;
    public bool IsReady => _ready;

    /// <summary>Told of every chunk the catalog records sealed while the silo runs (the <see cref="Archiver"/>); must not block.</summary>
    public Action<Chunk>? ChunkSealed { get; set; }

    private void NotifySealed(Chunk chunk) => ChunkSealed?.Invoke(chunk);

    /// <summary>A chunk this silo sealed for a dead owner: archived by this silo, like its own.</summary>
    internal void NotifyChunkSealed(Chunk chunk) => NotifySealed(chunk);

    /// <summary>Told of every category opened here after start (the catalog subscription of <see cref="Cluster.ClusterReads"/>); must not block.</summary>
    public Action<CategoryLog>? CategoryOpened { get; set; }

    /// <summary>Told of every active chunk's life (the replicator); set before the first write.</summary>
    public IChunkListener? ChunkListener { get; set; }

    /// <summary>The category, or null when it does not exist. The name must already be valid.</summary>
    public CategoryLog? Find(string category) => _categories.GetValueOrDefault(category);

    public IReadOnlyList<CategoryLog> All()
    {
        var all = _categories.Values.ToList();
        all.Sort(static (a, b) => string.CompareOrdinal(a.Name, b.Name));
        return all;
    }

    /// <summary>Returns the category, creating it with the silo's defaults on first use. The name must be valid.</summary>
    public ValueTask<CategoryLog> GetOrCreateAsync(string category, CancellationToken cancellationToken)
    {
        if (_categories.TryGetValue(category, out var log))
            return ValueTask.FromResult(log);
        return new ValueTask<CategoryLog>(CreateAsync(category, settings: null, cancellationToken));
    }

    /// <summary>
    /// Removes a category that holds no data, after the produce that created it failed (disk full): the
    /// refusal promises nothing was kept, so its catalog rows, empty chunk and folder go too. Best effort:
    /// on a full disk the catalog delete itself may fail, and then an empty category remains.
    /// </summary>
    public async Task RemoveIfEmptyAsync(CategoryLog log)
    {
        await _createLock.WaitAsync();
        try
        {
            foreach (var chunk in log.Chunks)
            {
                if (chunk.Size > 0)
                    return;
            }
            if (!_categories.TryRemove(new KeyValuePair<string, CategoryLog>(log.Name, log)))
                return;
            await log.DisposeAsync();
            await _metadata.DeleteCategoryAsync(log.Name, CancellationToken.None);
            System.IO.Directory.Delete(log.Directory, recursive: true);
        }
        catch (Exception e) when (e is IOException or MetadataStoreException or UnauthorizedAccessException)
        {
            Log.EmptyCategoryNotRemoved(_logger, e, log.Name);
        }
        finally
        {
            _createLock.Release();
        }
    }

    /// <summary>
    /// The category if this silo has it; else, when the catalog knows it (created by another silo sharing it), the
    /// category opened here with no local chunks; null when nobody created it. Never creates a category.
    /// </summary>
    public async ValueTask<CategoryLog?> FindOrOpenAsync(string category, CancellationToken cancellationToken)
    {
        if (_categories.TryGetValue(category, out var log))
            return log;
        if (await _metadata.GetCategoryAsync(category, cancellationToken) is null)
            return null;
        return await CreateAsync(category, settings: null, cancellationToken);
    }

    /// <summary>Creates the category with <paramref name="settings"/>, or updates the settings of an existing one.</summary>
    public async Task<CategoryLog> PutSettingsAsync(CategoryRecord settings, CancellationToken cancellationToken)
    {
        if (_categories.TryGetValue(settings.Name, out var existing))
        {
            await _metadata.PutCategoryAsync(settings, cancellationToken);
            existing.UpdateSettings(settings);
            return existing;
        }
        return await CreateAsync(settings.Name, settings, cancellationToken);
    }

    public CategoryRecord DefaultSettings(string category) => new(
        category, _options.MaxChunkBytes, (long)_options.MaxChunkAge.TotalMilliseconds, _options.DefaultDurability, _time.GetUtcNow());

    private async Task<CategoryLog> CreateAsync(string category, CategoryRecord? settings, CancellationToken cancellationToken)
    {
        if (!CategoryName.IsValid(category))
            throw new ArgumentException($"Invalid category name reached storage: {category}", nameof(category));
        await _createLock.WaitAsync(cancellationToken);
        try
        {
            if (_categories.TryGetValue(category, out var raced))
            {
                if (settings is not null)
                {
                    await _metadata.PutCategoryAsync(settings, cancellationToken);
                    raced.UpdateSettings(settings);
                }
                return raced;
            }
            CategoryRecord record;
            if (settings is null)
            {
                record = await _metadata.EnsureCategoryAsync(DefaultSettings(category), cancellationToken);
            }
            else
            {
                await _metadata.PutCategoryAsync(settings, cancellationToken);
                record = settings;
            }
            var directory = Path.Combine(CategoriesDir, category);
            System.IO.Directory.CreateDirectory(directory);
            var log = new CategoryLog(record, directory, NotifySealed) { Listener = () => ChunkListener };
            log.StartWriter(_metadata, _options.SiloId, _options.WriterQueueLength, _time, _logger);
            _categories[category] = log;
            CategoryOpened?.Invoke(log);
            return log;
        }
        finally
        {
            _createLock.Release();
        }
    }

    /// <summary>Seals every active chunk older than its category's MaxChunkAge. Called by <see cref="AgeSealer"/>.</summary>
    public async Task SealAgedChunksAsync()
    {
        var now = _time.GetUtcNow();
        foreach (var log in _categories.Values)
        {
            var created = log.Writer.ActiveCreatedAt;
            var cutoff = now - TimeSpan.FromMilliseconds(log.Settings.MaxChunkAgeMs);
            if (created is not null && created <= cutoff)
                await log.Writer.SealActiveAsync(cutoff.AddTicks(1));
        }
    }

    /// <summary>
    /// Stops taking writes and closes every category's writer, which seals its active chunk (the writer loop rotates out on
    /// completion). Idempotent. The metadata store stays open for whoever still finishes work (replication, the archive).
    /// </summary>
    public async Task CloseWritersAsync()
    {
        _ready = false;
        foreach (var log in _categories.Values)
            await log.DisposeAsync();
        _categories.Clear();
    }

    public async ValueTask DisposeAsync()
    {
        Telemetry.StoreGauges.Untrack(this);
        await CloseWritersAsync();
        await _metadata.DisposeAsync();
        _lock?.Dispose();
        _lock = null;
        _createLock.Dispose();
    }
}
