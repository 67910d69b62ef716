using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Microsoft.Win32.SafeHandles;
using OrleansBus.Silo.Metadata;

namespace OrleansBus.Silo.Storage;

/// <summary>
/// The single writer of one category on this silo. Producers enqueue validated batches; one loop drains
/// everything queued, writes it contiguously to the active chunk with one vectored write, appends the
/// index entries, publishes the new size to readers, acknowledges the page-cache batches, and hands the fsync ones
/// to <see cref="GroupSyncer"/>, whose one fdatasync covers every batch queued meanwhile (group commit) while this
/// loop writes the next group. A batch never spans two chunks.
/// Rotation: before a batch that would overflow MaxChunkBytes, and after the chunk reaches it; the
/// sealed chunk is synced and recorded by <see cref="Sealer"/> off this loop so producers do not wait
/// for a 64 MiB flush. Thread safe: any thread may call <see cref="AppendAsync"/>.
/// </summary>
public sealed partial class ChunkWriter : IAsyncDisposable
{
    private const int MaxGroupBatches = 512;
    private const long MaxGroupBytes = 32L * 1024 * 1024;

    private readonly CategoryLog _log;
    private readonly IMetadataStore _metadata;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly string _owner;
    private readonly Channel<WriterWork> _queue;
    private readonly Sealer _sealer;
    private readonly GroupSyncer _syncer;
    private readonly Task _loop;

    private readonly List<AppendRequest> _group = new(MaxGroupBatches);
    private readonly List<ReadOnlyMemory<byte>> _segments = new(1024);
    private readonly byte[] _indexBuffer = new byte[MaxGroupBatches * IndexEntry.Size];

    // Loop-owned state of the active chunk.
    private Chunk? _active;
    private SafeFileHandle? _data;
    private SafeFileHandle? _index;
    private long _activeSize;
    private long _activeMessages;
    private long _activeEntries;

    /// <summary>fdatasync calls made for produce batches (group commit makes this far fewer than fsync batches).</summary>
    internal long Syncs => _syncer.Syncs;

    internal ChunkWriter(CategoryLog log, IMetadataStore metadata, string owner, int queueLength, TimeProvider time, ILogger logger)
    {
        _log = log;
        _metadata = metadata;
        _owner = owner;
        _time = time;
        _logger = logger;
        _queue = Channel.CreateBounded<WriterWork>(new BoundedChannelOptions(queueLength)
        {
            FullMode = BoundedChannelFullMode.Wait, // back-pressure: producers wait, nothing is dropped
            SingleReader = true,
        });
        _sealer = new Sealer(metadata, time, logger, log.NotifySealed);
        _syncer = new GroupSyncer(_sealer, logger);
        _loop = Task.Run(RunAsync);
    }

    /// <summary>Appends one validated batch; completes once it is written (and synced, when asked).</summary>
    internal async Task<AppendResult> AppendAsync(AppendRequest request)
    {
        // Not cancellable once queued: the caller's buffer must stay alive until the writer is done with it.
        // ConfigureAwait(false): the acknowledgement goes back to the caller from the thread that gave it, not through the
        // scheduler of the grain that called (which every append of the category shares).
        await _queue.Writer.WriteAsync(request).ConfigureAwait(false);
        return await request.Completion.Task.ConfigureAwait(false);
    }

    /// <summary>Seals the active chunk if it was created before <paramref name="createdBefore"/> (null: always).</summary>
    internal async Task SealActiveAsync(DateTimeOffset? createdBefore)
    {
        var request = new SealRequest(createdBefore);
        await _queue.Writer.WriteAsync(request);
        await request.Completion.Task;
    }

    /// <summary>When the active chunk was created, or null when there is none.</summary>
    internal DateTimeOffset? ActiveCreatedAt => Volatile.Read(ref _active)?.CreatedAt;

    private async Task RunAsync()
    {
        var reader = _queue.Reader;
        while (await reader.WaitToReadAsync())
        {
            long groupBytes = 0;
            while (reader.TryRead(out var work))
            {
                if (work is SealRequest seal)
                {
                    FlushGroup();
                    groupBytes = 0;
                    if (_active is not null && (seal.CreatedBefore is null || _active.CreatedAt < seal.CreatedBefore))
                        RotateOut();
                    seal.Completion.TrySetResult();
                    continue;
                }
                var append = (AppendRequest)work;
                var maxChunkBytes = _log.Settings.MaxChunkBytes;
                if (_active is not null && _activeSize + groupBytes > 0 && _activeSize + groupBytes + append.Batch.Length > maxChunkBytes)
                {
                    FlushGroup();
                    groupBytes = 0;
                    RotateOut();
                }
                if (_active is null && !await TryOpenChunkAsync(append))
                    continue;
                _group.Add(append);
                groupBytes += append.Batch.Length;
                if (_group.Count == MaxGroupBatches || groupBytes >= MaxGroupBytes)
                {
                    FlushGroup();
                    groupBytes = 0;
                }
            }
            FlushGroup();
            if (_active is not null && _activeSize >= _log.Settings.MaxChunkBytes)
                RotateOut();
        }
        if (_active is not null)
            RotateOut();
    }

    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        await _loop;
        await _syncer.DisposeAsync(); // acknowledges the last fsync batches and passes the last seal on
        await _sealer.DisposeAsync();
    }
}
