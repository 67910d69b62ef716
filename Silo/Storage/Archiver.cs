using System.Collections.Concurrent;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OrleansBus.Silo.Archive;
using OrleansBus.Silo.Hosting;
using OrleansBus.Silo.Metadata;

namespace OrleansBus.Silo.Storage;

/// <summary>
/// Moves this silo's sealed chunks to the <see cref="IChunkArchive"/> and drops local copies past
/// <see cref="BusOptions.LocalRetention"/>. Fed by the <see cref="Sealer"/> (via <see cref="LogStore.ChunkSealed"/>)
/// and by a periodic sweep of chunks still <c>sealed</c>, so a full queue or a restart loses nothing: the catalog,
/// not the queue, says what is left to do. A chunk becomes <c>archived</c> only after the archive verified its
/// length and SHA-256; a local file is deleted only after that. Runs after <see cref="StorageService"/> started the store.
/// </summary>
public sealed partial class Archiver : BackgroundService
{
    private const int Uploaders = 2;
    private const int IntegrityAttempts = 3;
    private static readonly TimeSpan FirstRetryDelay = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan MaxRetryDelay = TimeSpan.FromSeconds(30);

    private readonly LogStore _store;
    private readonly IChunkArchive _archive;
    private readonly IMetadataStore _metadata;
    private readonly BusOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger<Archiver> _logger;
    private readonly Channel<Chunk> _queue = Channel.CreateBounded<Chunk>(new BoundedChannelOptions(256) { FullMode = BoundedChannelFullMode.Wait });
    // Chunk has reference identity: one entry per chunk queued or uploading, so the sweep never queues it twice.
    private readonly ConcurrentDictionary<Chunk, byte> _pending = new();
    // Chunks that need an operator (conflict, bad local file); retried only after a restart.
    private readonly ConcurrentDictionary<Chunk, byte> _failed = new();

    public Archiver(LogStore store, IChunkArchive archive, IMetadataStore metadata, IOptions<BusOptions> options, TimeProvider time, ILogger<Archiver> logger)
    {
        _store = store;
        _archive = archive;
        _metadata = metadata;
        _options = options.Value;
        _time = time;
        _logger = logger;
    }

    public override Task StartAsync(CancellationToken cancellationToken)
    {
        // Before the server takes requests: chunks whose local copy an earlier run dropped read from the archive.
        ForEachOwnChunk(chunk =>
        {
            if (chunk.State == ChunkStates.Archived && !File.Exists(chunk.DataPath))
                chunk.MarkRemote(FetchAsync);
        });
        _store.ChunkSealed = Offer;
        return base.StartAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var uploaders = new Task[Uploaders];
        for (var i = 0; i < Uploaders; i++)
            uploaders[i] = Task.Run(() => UploadLoopAsync(stoppingToken), CancellationToken.None);
        using var timer = new PeriodicTimer(_options.SealCheckInterval, _time);
        var nextArchiveCheck = _time.GetUtcNow() + _options.ArchiveCheckInterval;
        try
        {
            do
            {
                if (_options.ArchiveCheckInterval > TimeSpan.Zero && _time.GetUtcNow() >= nextArchiveCheck)
                {
                    await CheckArchivedChunksAsync(stoppingToken);
                    nextArchiveCheck = _time.GetUtcNow() + _options.ArchiveCheckInterval;
                }
                ForEachOwnChunk(chunk =>
                {
                    if (chunk.State == ChunkStates.Sealed)
                        Offer(chunk);
                });
                await DropExpiredLocalCopiesAsync(stoppingToken);
            }
            while (await timer.WaitForNextTickAsync(stoppingToken));
        }
        catch (OperationCanceledException)
        {
        }
        _store.ChunkSealed = null;
        _queue.Writer.TryComplete();
        await Task.WhenAll(uploaders);
    }

    private void Offer(Chunk chunk)
    {
        if (_failed.ContainsKey(chunk) || !_pending.TryAdd(chunk, 0))
            return;
        // A full (or completed) queue drops the offer; the next sweep offers the chunk again.
        if (!_queue.Writer.TryWrite(chunk))
            _pending.TryRemove(chunk, out _);
    }

    /// <summary>The chunks this silo archives: its own, and those it sealed for a dead owner (never the owner's then).</summary>
    private void ForEachOwnChunk(Action<Chunk> action)
    {
        foreach (var log in _store.All())
        {
            foreach (var chunk in log.Chunks)
            {
                if ((chunk.SealedBy ?? chunk.Owner) == _store.SiloId && (chunk.SealedBy is not null || !chunk.IsForeign))
                    action(chunk);
            }
        }
    }

    private async Task UploadLoopAsync(CancellationToken stoppingToken)
    {
        try
        {
            await foreach (var chunk in _queue.Reader.ReadAllAsync(stoppingToken))
            {
                try
                {
                    await ArchiveAsync(chunk, stoppingToken);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    // An unexpected failure stops this chunk only, never the uploader; it stays sealed and local.
                    Log.ArchiveCrashed(_logger, e, chunk.Category, chunk.Name);
                    _failed.TryAdd(chunk, 0);
                }
                finally
                {
                    _pending.TryRemove(chunk, out _);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping: an unfinished chunk stays sealed in the catalog and is archived after the next start.
        }
    }
}
