using System.Collections.Concurrent;
using Microsoft.Extensions.Options;
using OrleansBus.Silo.Cluster;
using OrleansBus.Silo.Hosting;
using OrleansBus.Silo.Metadata;
using OrleansBus.Silo.Storage;

namespace OrleansBus.Silo.Replication;

/// <summary>
/// Streams this silo's active chunks to <c>ReplicationFactor - 1</c> live peers, asynchronously and byte-exact (data and
/// index, whole batches, each checked by its CRC on arrival). The writer tells it when a chunk opens (peers are chosen
/// then and recorded in the catalog), when batches are published and when the chunk is rotated out; one loop per
/// (chunk, peer) sends whatever the peer lacks, starting from the position the peer reports, so a lagging or restarted
/// peer catches up from its own size. <see cref="WaitAsync"/> serves <c>min_sync_replicas</c>. Thread safe.
/// </summary>
public sealed partial class Replicator : IChunkListener, IAsyncDisposable
{
    private const int PushBytes = 4 * 1024 * 1024;
    private static readonly TimeSpan IdleRecheck = TimeSpan.FromSeconds(1);

    private readonly LogStore _store;
    private readonly Membership _membership;
    private readonly PeerClient _peers;
    private readonly IMetadataStore _metadata;
    private readonly BusOptions _options;
    private readonly ILogger<Replicator> _logger;
    private readonly ConcurrentDictionary<Chunk, ChunkReplication> _chunks = new();
    private readonly ConcurrentDictionary<Chunk, Task> _starting = new();
    private readonly CancellationTokenSource _stopping = new();
    private int _disposed;

    public Replicator(LogStore store, Membership membership, PeerClient peers, IMetadataStore metadata, IOptions<BusOptions> options, ILogger<Replicator> logger)
    {
        _store = store;
        _membership = membership;
        _peers = peers;
        _metadata = metadata;
        _options = options.Value;
        _logger = logger;
        store.ChunkListener = this;
    }

    /// <summary>Replicas a produce can ask for now: ReplicationFactor - 1, capped by the live peers.</summary>
    public int AvailableReplicas => Math.Min(_options.ReplicationFactor - 1, _membership.LivePeers().Count);

    Task IChunkListener.OpenedAsync(Chunk chunk) => EnsureReplicatingAsync(chunk);

    /// <summary>
    /// Starts replicating an active chunk unless that is done or under way: when it opens, or later for a chunk opened
    /// while no peer was live (peers joined since), so it does not stay a single copy until it rotates.
    /// </summary>
    private Task EnsureReplicatingAsync(Chunk chunk)
    {
        if (_chunks.ContainsKey(chunk) || chunk.State != ChunkStates.Active)
            return Task.CompletedTask;
        var start = _starting.GetOrAdd(chunk, c => StartAsync(c));
        if (start.IsCompleted)
            _starting.TryRemove(new KeyValuePair<Chunk, Task>(chunk, start));
        return start;
    }

    private async Task StartAsync(Chunk chunk)
    {
        await Task.Yield(); // never on the writer loop's stack beyond this point
        try
        {
            await ChooseAndStartAsync(chunk);
        }
        finally
        {
            _starting.TryRemove(chunk, out _);
        }
    }

    private async Task ChooseAndStartAsync(Chunk chunk)
    {
        var wanted = _options.ReplicationFactor - 1;
        if (wanted <= 0)
            return;
        var live = _membership.LivePeers();
        // Rendezvous order (hash of chunk and silo) spreads chunks over peers and moves little when peers come and go.
        var peers = live.Select(p => p.SiloId)
            .OrderByDescending(id => (uint)HashCode.Combine(StableHash(chunk.Name), StableHash(id)))
            .Take(wanted).ToArray();
        if (peers.Length == 0)
            return;
        foreach (var peer in peers)
        {
            try
            {
                await _metadata.Cluster.AddReplicaAsync(chunk.Category, chunk.Name, peer, CancellationToken.None);
            }
            catch (MetadataStoreException e)
            {
                Log.ReplicaNotRecorded(_logger, e, chunk.Name, peer); // the replica still knows it holds a copy
            }
        }
        var replication = new ChunkReplication(chunk, peers);
        _chunks[chunk] = replication;
        lock (replication.Loops)
        {
            foreach (var peer in peers)
                replication.Loops.Add(Task.Run(() => SendLoopAsync(replication, peer)));
        }
    }

    void IChunkListener.Published(Chunk chunk)
    {
        if (_chunks.TryGetValue(chunk, out var replication))
            replication.Signal();
        else if (_options.ReplicationFactor > 1 && _membership.LivePeers().Count > 0)
            _ = EnsureReplicatingAsync(chunk); // opened while alone; peers are here now
    }

    void IChunkListener.RotatedOut(Chunk chunk)
    {
        if (_chunks.TryGetValue(chunk, out var replication))
        {
            replication.Rotated = true;
            replication.Signal();
        }
    }

    /// <summary>
    /// Waits until <paramref name="replicas"/> peers hold the chunk up to <paramref name="end"/>, or the timeout; returns
    /// how many did (at most the number wanted).
    /// </summary>
    public async Task<int> WaitAsync(Chunk chunk, long end, int replicas, TimeSpan timeout, CancellationToken cancellationToken)
    {
        if (!_chunks.ContainsKey(chunk))
            await EnsureReplicatingAsync(chunk); // opened while no peer was live
        if (!_chunks.TryGetValue(chunk, out var replication))
            return 0;
        var waiter = replication.AddWaiter(end, replicas);
        if (waiter.Task.IsCompleted)
            return await waiter.Task;
        try
        {
            return await waiter.Task.WaitAsync(timeout, cancellationToken);
        }
        catch (TimeoutException)
        {
            return replication.CountAtLeast(end);
        }
    }

    private async Task SendLoopAsync(ChunkReplication replication, string peer)
    {
        var chunk = replication.Chunk;
        long sent = 0, indexSent = 0;
        var delay = TimeSpan.FromMilliseconds(50);
        var token = _stopping.Token;
        try
        {
            while (!token.IsCancellationRequested)
            {
                var signal = replication.NextSignal;
                var size = chunk.Size;
                if (sent >= size)
                {
                    if (replication.Rotated && sent >= chunk.Size)
                        break;
                    await Task.WhenAny(signal, Task.Delay(IdleRecheck, token));
                    continue;
                }
                if (_membership.IsGoneFor(peer, TimeSpan.Zero))
                {
                    if (await TryReplaceAsync(replication, peer, "was declared dead"))
                        return; // a live peer took its place and gets the whole chunk from its own (empty) copy
                    if (replication.Rotated)
                        return; // sealed, and nobody to send it to: readers pull it from the owner or the archive
                }
                var address = _membership.IsLive(peer) ? _membership.AddressOf(peer) : null;
                MirrorPosition? position = null;
                if (address is not null)
                {
                    using var tail = ChunkTail.Read(chunk, sent, indexSent, PushBytes);
                    if (tail is null)
                    {
                        Log.ReplicaDiverged(_logger, chunk.Name, peer, sent);
                        return;
                    }
                    var pushed = await _peers.PushAsync(address, chunk, sent, indexSent, tail, token);
                    if (pushed.Refused)
                    {
                        // Nothing listens at the peer's address: its process is gone, though Orleans will need seconds to
                        // say so. Replace it now instead of making every produce that waits for it wait that long.
                        _membership.ReportRefused(peer);
                        if (await TryReplaceAsync(replication, peer, "refuses connections"))
                            return;
                    }
                    else if (pushed.Position is not null)
                    {
                        _membership.ReportAnswered(peer);
                    }
                    position = pushed.Position;
                    if (pushed.Gone)
                    {
                        // A replica sealed this chunk while we were counted dead: stop appending to it at once.
                        Log.SealedByReplica(_logger, chunk.Name, peer);
                        if (_store.Find(chunk.Category) is { } log)
                            await log.Writer.SealActiveAsync(chunk.CreatedAt.AddTicks(1));
                        return;
                    }
                }
                if (position is not { } held || held.Size > chunk.Size)
                {
                    // Unreachable or dead: back off; a peer that comes back catches up from what it reports.
                    await Task.Delay(delay, token);
                    delay = TimeSpan.FromMilliseconds(Math.Min(delay.TotalMilliseconds * 2, 2000));
                    continue;
                }
                delay = TimeSpan.FromMilliseconds(50);
                (sent, indexSent) = (held.Size, held.IndexLength);
                replication.Acknowledge(peer, sent);
            }
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Log.ReplicationFailed(_logger, e, chunk.Name, peer);
        }
        finally
        {
            if (replication.LoopEnded())
                _chunks.TryRemove(chunk, out _);
        }
    }

    /// <summary>Replaces a dead replica with a live peer that holds no copy of the chunk yet, if there is one.</summary>
    private async Task<bool> TryReplaceAsync(ChunkReplication replication, string dead, string why)
    {
        var chunk = replication.Chunk;
        foreach (var candidate in _membership.LivePeers())
        {
            if (replication.Holds(candidate.SiloId) || !replication.Replace(dead, candidate.SiloId))
                continue;
            try
            {
                await _metadata.Cluster.AddReplicaAsync(chunk.Category, chunk.Name, candidate.SiloId, CancellationToken.None);
            }
            catch (MetadataStoreException e)
            {
                Log.ReplicaNotRecorded(_logger, e, chunk.Name, candidate.SiloId);
            }
            Log.ReplicaReplaced(_logger, chunk.Name, dead, why, candidate.SiloId);
            lock (replication.Loops)
                replication.Loops.Add(Task.Run(() => SendLoopAsync(replication, candidate.SiloId)));
            return true;
        }
        return false;
    }

    private static int StableHash(string text)
    {
        var hash = 2166136261u; // FNV-1a: the same on every silo and every run, unlike string.GetHashCode
        foreach (var c in text)
            hash = (hash ^ c) * 16777619u;
        return (int)hash;
    }

    /// <summary>Gives the loops a few seconds to send the last batches of the chunks just sealed, then stops them.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
            return; // stopped by StorageService, then disposed by the container
        var loops = _chunks.Values.SelectMany(r =>
        {
            lock (r.Loops)
                return r.Loops.ToArray();
        }).ToArray();
        await Task.WhenAny(Task.WhenAll(loops), Task.Delay(TimeSpan.FromSeconds(5)));
        await _stopping.CancelAsync();
        await Task.WhenAll(loops);
        _stopping.Dispose();
    }

    private static partial class Log
    {
        [LoggerMessage(4201, LogLevel.Warning, "Could not record {Peer} as a replica of {Chunk}")]
        public static partial void ReplicaNotRecorded(ILogger logger, Exception exception, string chunk, string peer);

        [LoggerMessage(4202, LogLevel.Error, "Replica {Peer} of {Chunk} reports a position ({Offset}) that is not a batch boundary here; stopped replicating to it")]
        public static partial void ReplicaDiverged(ILogger logger, string chunk, string peer, long offset);

        [LoggerMessage(4204, LogLevel.Error, "Replica {Peer} sealed {Chunk} (this silo was counted dead); rotating to a new chunk. Batches past the replica's size are re-published at the next start")]
        public static partial void SealedByReplica(ILogger logger, string chunk, string peer);

        [LoggerMessage(4205, LogLevel.Warning, "Replica {Dead} of {Chunk} {Why}; {Replacement} replicates it from now on")]
        public static partial void ReplicaReplaced(ILogger logger, string chunk, string dead, string why, string replacement);

        [LoggerMessage(4203, LogLevel.Error, "Replicating {Chunk} to {Peer} failed")]
        public static partial void ReplicationFailed(ILogger logger, Exception exception, string chunk, string peer);
    }
}
