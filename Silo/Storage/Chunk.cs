using Microsoft.Win32.SafeHandles;
using OrleansBus.Silo.Metadata;

namespace OrleansBus.Silo.Storage;

/// <summary>
/// A chunk as this silo sees it: its files, its lifecycle state and its readable size.
/// The category's <see cref="ChunkWriter"/> is the only writer; readers see <see cref="Size"/> grow only
/// after whole batches are written, so a reader never sees a partial batch. Thread safe.
/// </summary>
public sealed class Chunk : IDisposable
{
    private long _size;
    private long _messages;
    private volatile string _state;
    private SafeFileHandle? _readHandle;
    private volatile bool _remote;
    private Func<Chunk, CancellationToken, Task<string>>? _fetcher;
    private Task? _fetch;
    private readonly Lock _handleLock = new();

    public Chunk(string category, string name, string owner, long seq, string dataPath, string state, long size, long messages, DateTimeOffset createdAt)
    {
        Category = category;
        Name = name;
        Owner = owner;
        Seq = seq;
        DataPath = dataPath;
        _state = state;
        _size = size;
        _messages = messages;
        CreatedAt = createdAt;
        _finalSize = ChunkStates.IsFinal(state) ? size : -1;
    }

    public string Category { get; }
    public string Name { get; }
    public string Owner { get; }
    public long Seq { get; }
    public string DataPath { get; }
    public string IndexPath => DataPath + ".idx";
    public DateTimeOffset CreatedAt { get; }
    public string State => _state;
    public long Size => Volatile.Read(ref _size);
    public long Messages => Volatile.Read(ref _messages);

    /// <summary>Why the chunk is quarantined, when its state is corrupt.</summary>
    public string? CorruptReason { get; private set; }

    /// <summary>
    /// Another silo owns the chunk; this silo holds a local copy (pushed to it as a replica, or pulled on demand by a
    /// read), possibly shorter than the owner's. <see cref="Size"/> is what is readable here.
    /// </summary>
    public bool IsForeign { get; init; }

    /// <summary>The local copy of a foreign chunk; null for the owner's own chunks.</summary>
    internal Replication.ChunkMirror? Mirror { get; set; }

    private long _finalSize = -1;

    /// <summary>The size the catalog recorded at the seal; -1 while active. A foreign copy is complete when it holds that much.</summary>
    public long FinalSize => Volatile.Read(ref _finalSize);

    /// <summary>Messages the catalog recorded at the seal (foreign chunks: the copy here may hold fewer so far).</summary>
    public long FinalMessages { get; internal set; }

    /// <summary>
    /// The size the cluster knows: a sealed foreign chunk's catalog size (however much of it was copied here so far),
    /// else what is readable here. Listings and lag count this; reads go by <see cref="Size"/>.
    /// </summary>
    public long KnownSize => IsForeign && FinalSize >= 0 ? FinalSize : Size;

    /// <summary>Messages to go with <see cref="KnownSize"/>.</summary>
    public long KnownMessages => IsForeign && FinalSize >= 0 ? FinalMessages : Messages;

    /// <summary>Who sealed it: the owner, or the replica that sealed it for a dead owner (and archives it).</summary>
    public string? SealedBy { get; internal set; }

    /// <summary>
    /// No more bytes will ever appear here: sealed or archived, and (for a foreign chunk) every sealed byte is readable
    /// locally or through the archive cache. Consumer groups finish a chunk only when it is complete.
    /// </summary>
    public bool IsComplete => ChunkStates.IsFinal(_state) && (!IsForeign || _remote || Size >= FinalSize);

    /// <summary>Records what the catalog says of a foreign chunk (state, and the final size once sealed).</summary>
    internal void ApplyCatalog(string state, long size, DateTimeOffset? sealedAt, string? sealedBy)
    {
        if (ChunkStates.IsFinal(state) || state == ChunkStates.Corrupt)
            Volatile.Write(ref _finalSize, size);
        SealedAt = sealedAt;
        SealedBy = sealedBy;
        _state = state;
    }

    /// <summary>Makes newly written whole batches visible to readers. Called by the writer only.</summary>
    internal void Publish(long size, long messages)
    {
        Volatile.Write(ref _messages, messages);
        Volatile.Write(ref _size, size);
    }

    internal void SetState(string state)
    {
        if (ChunkStates.IsFinal(state))
            Volatile.Write(ref _finalSize, Size);
        _state = state;
    }

    internal void MarkCorrupt(string reason)
    {
        CorruptReason = reason;
        _state = ChunkStates.Corrupt;
    }

    /// <summary>When the catalog recorded the seal; local retention of archived chunks counts from it.</summary>
    public DateTimeOffset? SealedAt { get; internal set; }

    /// <summary>True once the local file of this archived chunk was dropped: reads go through the cache.</summary>
    public bool IsRemote => _remote;

    /// <summary>
    /// Makes the chunk readable here: a no-op for local bytes; for a remote chunk, downloads it once into the
    /// cache (concurrent callers share one download). Throws the archive's exceptions (unavailable: retry later).
    /// </summary>
    public ValueTask EnsureReadableAsync(CancellationToken cancellationToken)
    {
        if (!_remote || Volatile.Read(ref _readHandle) is not null)
            return ValueTask.CompletedTask;
        return new ValueTask(FetchAsync(cancellationToken));
    }

    private Task FetchAsync(CancellationToken cancellationToken)
    {
        var fetcher = _fetcher ?? throw new IOException($"Chunk {Name} is archived and this silo has no archive to read it from.");
        Task fetch;
        lock (_handleLock)
        {
            // A failed download is forgotten so the next read tries again (the archive may be back).
            if (_fetch is null || _fetch.IsFaulted || _fetch.IsCanceled)
                _fetch = OpenCacheAsync(fetcher);
            fetch = _fetch;
        }
        return fetch.WaitAsync(cancellationToken);
    }

    private async Task OpenCacheAsync(Func<Chunk, CancellationToken, Task<string>> fetcher)
    {
        // Not the caller's token: one reader giving up must not cancel the download others wait for.
        var path = await fetcher(this, CancellationToken.None);
        lock (_handleLock)
        {
            _readHandle ??= File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        }
    }

    /// <summary>
    /// The local file is about to be deleted: later reads resolve through <paramref name="fetcher"/> (the archive,
    /// cached on disk). The old handle is not disposed, as a reader may still be in pread on it; the GC closes it.
    /// </summary>
    internal void MarkRemote(Func<Chunk, CancellationToken, Task<string>> fetcher)
    {
        _fetcher = fetcher;
        lock (_handleLock)
        {
            _remote = true;
            _readHandle = null;
        }
    }

    /// <summary>
    /// A shared read-only handle; pread on it is safe from many threads at once. For a remote chunk it is the
    /// cache file: endpoints call <see cref="EnsureReadableAsync"/> first; other callers block on the download.
    /// </summary>
    public SafeFileHandle ReadHandle()
    {
        var handle = Volatile.Read(ref _readHandle);
        if (handle is not null)
            return handle;
        if (_remote)
        {
            FetchAsync(CancellationToken.None).GetAwaiter().GetResult();
            return Volatile.Read(ref _readHandle)!;
        }
        lock (_handleLock)
        {
            return _readHandle ??= File.OpenHandle(DataPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        }
    }

    public void Dispose()
    {
        lock (_handleLock)
        {
            _readHandle?.Dispose();
            _readHandle = null;
        }
    }
}
