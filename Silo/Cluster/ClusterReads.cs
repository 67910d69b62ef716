using System.Runtime.CompilerServices;
using System.Collections.Concurrent;
using Microsoft.Extensions.Options;
using OrleansBus.Contracts.Grains;
using OrleansBus.Silo.Hosting;
using OrleansBus.Silo.Metadata;
using OrleansBus.Silo.Storage;

namespace OrleansBus.Silo.Cluster;

/// <summary>
/// Makes every silo able to serve every chunk. It hears from each open category's <see cref="ICategoryGrain"/> about every
/// catalog change as it happens (subscribed when the category opens here, renewed every <see cref="ResubscribeInterval"/>),
/// asks the grain for the whole list on demand (a reader names a chunk this silo has not seen), and adds other silos'
/// chunks to the local category lists; when a reader needs bytes of a foreign chunk that the local copy lacks, it pulls the missing
/// batches from the owner, else from a live replica, into that copy (<see cref="Replication.ChunkMirror"/>); an archived
/// chunk is read from the archive cache instead. Concurrent callers share one catalog read per category and one pull
/// per chunk. Thread safe.
/// </summary>
public sealed partial class ClusterReads(
    LogStore store, IMetadataStore metadata, Membership membership, PeerClient peers, Archiver archiver, IGrainFactory grains,
    IOptions<BusOptions> options, TimeProvider time, ILogger<ClusterReads> logger,
    [FromKeyedServices(CatalogStore.DatabaseKey)] IMetadataStore database) : BackgroundService, ICatalogObserver
{
    /// <summary>Subscriptions lapse after a few minutes (and with the grain's silo); renewing them this often keeps them.</summary>
    private static readonly TimeSpan ResubscribeInterval = TimeSpan.FromSeconds(20);
    private ICatalogObserver? _self;

    private const int PullBytes = 16 * 1024 * 1024;
    private const int MaxPullRounds = 64;

    private readonly ConcurrentDictionary<string, (Task Sync, long StartedMs)> _syncs = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<Chunk, Task> _pulls = new();
    private readonly ConcurrentDictionary<Chunk, Task> _watches = new();
    private readonly ConditionalWeakTable<Chunk, StrongBox<long>> _ownerSizes = new();
    private readonly ConcurrentDictionary<string, IReadOnlyList<(string Chunk, string SiloId)>> _replicas = new(StringComparer.Ordinal);

    private long NowMs => time.GetUtcNow().ToUnixTimeMilliseconds();

    /// <summary>
    /// The embedded single silo (its own SQLite catalog), or a cluster in which Orleans knows no other silo, live or dead:
    /// every chunk in the catalog is then this silo's own.
    /// </summary>
    private bool IsAlone => !clustered || membership.Members is [{ Self: true }];

    private readonly bool clustered = options.Value.Metadata == "postgres";

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // The embedded single silo subscribes too: its own chunks need no catalog pushes, but retention's expiries do.
        _self = grains.CreateObjectReference<ICatalogObserver>(this);
        store.CategoryOpened = log => _ = SubscribeAsync(log);
        using var timer = new PeriodicTimer(ResubscribeInterval, time);
        try
        {
            do
            {
                await ResumeDeletionsAsync();
                foreach (var log in store.All())
                {
                    if (!await SubscribeAsync(log))
                        continue;
                    // What a push could not tell: a category grain that moved (its silo died) lost its subscribers, and the
                    // changes it made before they subscribed again — an expiry above all — are read from the catalog here.
                    await RefreshAsync(log, ResubscribeInterval / 2, stoppingToken);
                }
            }
            while (await timer.WaitForNextTickAsync(stoppingToken));
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        finally
        {
            store.CategoryOpened = null;
            grains.DeleteObjectReference<ICatalogObserver>(_self);
        }
    }

    /// <summary>False when the category is being deleted or gone: a drop this silo missed (it was unreachable) happens now.</summary>
    private async Task<bool> SubscribeAsync(CategoryLog log)
    {
        if (_self is not { } self)
            return true;
        try
        {
            if (await grains.GetGrain<ICategoryGrain>(log.Name).SubscribeAsync(self))
                return true;
            await store.Drop(log.Name);
            return false;
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            Log.SubscribeFailed(logger, e, log.Name); // the next round tries again; readers ask the grain meanwhile
            return true;
        }
    }

    /// <summary>
    /// Wakes the grain of every category the table marks as being deleted: its timer went with its silo, and activating
    /// it elsewhere carries the deletion on. Every silo does this each round; the grain ignores all but the first.
    /// </summary>
    private async Task ResumeDeletionsAsync()
    {
        try
        {
            // The table itself (not the grains): which categories are marked, without waking every category's grain.
            foreach (var row in await database.ListCategoriesAsync(CancellationToken.None))
            {
                if (row.DeletingAtMs > 0)
                    await grains.GetGrain<ICategoryGrain>(row.Name).GetDeletionAsync();
            }
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            Log.ResumeDeletionsFailed(logger, e);
        }
    }

    /// <summary>New settings pushed by a category grain (changed through any silo): the writer here follows them.</summary>
    void ICatalogObserver.SettingsChanged(CategorySettings settings) =>
        store.Find(settings.Name)?.UpdateSettings(Grains.CategoryGrain.ToRecord(settings));

    /// <summary>A catalog change pushed by a category grain: another silo's new chunk, or a seal, applied here at once.</summary>
    void ICatalogObserver.ChunkChanged(CatalogChunk row)
    {
        if (store.Find(row.Category) is { } log && Apply(log, CatalogStore.ToRecord(row)))
            log.SignalDataArrived(); // new or newly sealed chunks: waiting polls look again
    }

    /// <summary>Reads the category's catalog rows unless that was done less than <paramref name="maxAge"/> ago (or is under way).</summary>
    public Task RefreshAsync(CategoryLog log, TimeSpan maxAge, CancellationToken cancellationToken)
    {
        if (IsAlone)
            return Task.CompletedTask; // the embedded single silo: every chunk in the catalog is its own
        var now = NowMs;
        var entry = _syncs.AddOrUpdate(log.Name,
            _ => (SyncAsync(log), now),
            (_, old) => !old.Sync.IsCompleted || now - old.StartedMs < maxAge.TotalMilliseconds ? old : (SyncAsync(log), now));
        return entry.Sync.WaitAsync(cancellationToken);
    }

    private async Task SyncAsync(CategoryLog log)
    {
        await Task.Yield();
        try
        {
            var rows = await metadata.ListChunksAsync(log.Name, CancellationToken.None);
            _replicas[log.Name] = await metadata.Cluster.ListReplicasAsync(log.Name, CancellationToken.None);
            var known = log.Chunks.Count;
            var changed = false;
            foreach (var row in rows)
                changed |= Apply(log, row);
            if (changed || log.Chunks.Count != known)
                log.SignalDataArrived(); // new or newly sealed chunks: waiting polls look again
        }
        catch (MetadataStoreException e)
        {
            Log.CatalogReadFailed(logger, e);
        }
    }

    /// <summary>Adds or updates another silo's chunk from its catalog row; true when something changed here.</summary>
    private bool Apply(CategoryLog log, ChunkRecord row)
    {
        if (row.State == ChunkStates.Expired)
            return store.Expire(log, row.Name); // retention: own chunks and copies alike, the files go
        if (row.Owner == store.SiloId)
            return false; // own chunks: this silo's writer and sealer are the truth
        var known = log.FindChunk(row.Name) is not null;
        var chunk = store.GetOrAddForeign(log, row.Name, row.Owner, row.Seq, row.CreatedAt);
        if (known && chunk.State == row.State && chunk.SealedBy == row.SealedBy)
            return false;
        chunk.FinalMessages = row.Messages;
        chunk.ApplyCatalog(row.State, row.Size, row.SealedAt, row.SealedBy);
        return true;
    }

    /// <summary>
    /// Pulls the batches of a foreign chunk the local copy lacks (no-op for own, complete or archived chunks), and returns
    /// once the copy holds <paramref name="wantSize"/> bytes (the pull goes on in the background to the source's end), or
    /// the pull ended: caught up with its source, or no source could be reached (the caller reads what is here).
    /// </summary>
    public async Task CatchUpAsync(Chunk chunk, CategoryLog log, long wantSize, CancellationToken cancellationToken)
    {
        if (!chunk.IsForeign || chunk.IsRemote || chunk.IsComplete || chunk.State == ChunkStates.Corrupt)
            return;
        var pull = _pulls.GetOrAdd(chunk, c => PullAsync(c, log));
        while (!pull.IsCompleted && chunk.Size < wantSize)
        {
            var arrived = log.DataArrived; // each append to the copy signals it
            if (chunk.Size >= wantSize)
                break;
            await Task.WhenAny(pull, arrived).WaitAsync(cancellationToken);
        }
    }

    /// <summary>
    /// For a waiting poll: watches every active chunk of another silo that this copy has caught up with, by a long poll
    /// to its owner (<see cref="PeerClient.WaitForGrowthAsync"/>), and signals <see cref="CategoryLog.DataArrived"/> when
    /// one grows — so new data on any silo wakes the poll at once, without a re-check interval. One watch per chunk at a
    /// time, shared by every poll waiting here; each lasts at most <paramref name="wait"/>.
    /// </summary>
    public void WatchForeignGrowth(CategoryLog log, TimeSpan wait)
    {
        if (wait <= TimeSpan.Zero)
            return;
        foreach (var chunk in log.Chunks)
        {
            if (chunk.IsForeign && !chunk.IsRemote && !chunk.IsComplete && chunk.State == ChunkStates.Active && !_watches.ContainsKey(chunk))
                _watches.TryAdd(chunk, WatchAsync(chunk, log, wait));
        }
    }

    private async Task WatchAsync(Chunk chunk, CategoryLog log, TimeSpan wait)
    {
        await Task.Yield();
        try
        {
            // Past what the owner last said it had, not past this copy: a copy left behind on purpose (nothing here needs
            // those bytes yet) would otherwise answer at once, again and again.
            var known = _ownerSizes.GetValue(chunk, static _ => new StrongBox<long>());
            var after = Math.Max(chunk.Size, Volatile.Read(ref known.Value));
            if (membership.AddressOf(chunk.Owner) is not { } owner || !membership.IsLive(chunk.Owner))
                return; // no owner to ask; a replica's seal comes through the catalog
            if (await peers.WaitForGrowthAsync(owner, chunk.Category, chunk.Name, after, wait, CancellationToken.None) is { } now && now > after)
            {
                Volatile.Write(ref known.Value, now);
                log.SignalDataArrived(); // the poll looks again, and pulls what is new
            }
        }
        finally
        {
            _watches.TryRemove(chunk, out _);
        }
    }

    /// <summary>Catches up foreign chunks that are not complete here, in parallel, each to the size <paramref name="want"/> names.</summary>
    public Task CatchUpAllAsync(CategoryLog log, IEnumerable<Chunk> chunks, Func<Chunk, long> want, CancellationToken cancellationToken)
    {
        List<Task>? pulls = null;
        foreach (var chunk in chunks)
        {
            if (chunk.IsForeign && !chunk.IsRemote && !chunk.IsComplete)
                (pulls ??= []).Add(CatchUpAsync(chunk, log, want(chunk), cancellationToken));
        }
        return pulls is null ? Task.CompletedTask : Task.WhenAll(pulls);
    }

    private async Task PullAsync(Chunk chunk, CategoryLog log)
    {
        await Task.Yield();
        try
        {
            foreach (var source in Sources(chunk))
            {
                if (await PullFromAsync(chunk, log, source) && (chunk.IsComplete || chunk.State == ChunkStates.Active))
                    return;
            }
            if (chunk.State == ChunkStates.Archived && !chunk.IsComplete)
            {
                // No live silo holds it whole (local copies are dropped after LocalRetention): the archive does.
                chunk.Publish(chunk.FinalSize, chunk.FinalMessages);
                chunk.MarkRemote(archiver.FetchAsync);
            }
        }
        catch (Exception e) when (e is IOException or InvalidDataException or UnauthorizedAccessException or ObjectDisposedException)
        {
            Log.PullFailed(logger, e, chunk.Category, chunk.Name);
        }
        finally
        {
            _pulls.TryRemove(chunk, out _);
        }
    }

    /// <summary>True when the copy caught up with <paramref name="address"/> (or became complete).</summary>
    private async Task<bool> PullFromAsync(Chunk chunk, CategoryLog log, string address)
    {
        var mirror = store.MirrorOf(chunk, log);
        for (var round = 0; round < MaxPullRounds; round++)
        {
            var position = mirror.Position;
            using var tail = await peers.PullAsync(address, chunk.Category, chunk.Name, position.Size, position.IndexLength, PullBytes, CancellationToken.None);
            if (tail is null)
                return false;
            if (tail.DataLength == 0)
                return true;
            await mirror.AppendAsync(position.Size, position.IndexLength, tail.Data, tail.Index, CancellationToken.None);
            if (chunk.IsComplete)
                return true;
        }
        return true;
    }

    /// <summary>Where a foreign chunk's bytes can come from: its owner while live, then live replicas (not this silo).</summary>
    private List<string> Sources(Chunk chunk)
    {
        var sources = new List<string>(3);
        if (membership.IsLive(chunk.Owner) && membership.AddressOf(chunk.Owner) is { } owner)
            sources.Add(owner);
        if (_replicas.TryGetValue(chunk.Category, out var replicas))
        {
            foreach (var (name, silo) in replicas)
            {
                if (name == chunk.Name && silo != store.SiloId && membership.IsLive(silo) && membership.AddressOf(silo) is { } address)
                    sources.Add(address);
            }
        }
        if (chunk.SealedBy is { } sealer && sealer != store.SiloId && sealer != chunk.Owner && membership.IsLive(sealer) && membership.AddressOf(sealer) is { } sealerAddress && !sources.Contains(sealerAddress))
            sources.Add(sealerAddress);
        return sources;
    }

    private static partial class Log
    {
        [LoggerMessage(4101, LogLevel.Warning, "Reading the chunk catalog failed; other silos' chunks are listed as last seen")]
        public static partial void CatalogReadFailed(ILogger logger, Exception exception);

        [LoggerMessage(4103, LogLevel.Warning, "Subscribing to the catalog changes of {Category} failed; trying again shortly")]
        public static partial void SubscribeFailed(ILogger logger, Exception exception, string category);

        [LoggerMessage(4104, LogLevel.Warning, "Looking for category deletions to carry on failed; trying again next round")]
        public static partial void ResumeDeletionsFailed(ILogger logger, Exception exception);

        [LoggerMessage(4102, LogLevel.Warning, "Pulling {Category}/{Chunk} from its owner or a replica failed")]
        public static partial void PullFailed(ILogger logger, Exception exception, string category, string chunk);
    }
}
