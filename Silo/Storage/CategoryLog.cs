using Microsoft.Extensions.Logging;
using OrleansBus.Silo.Metadata;

namespace OrleansBus.Silo.Storage;

/// <summary>
/// One category on this silo: its settings, its chunks (oldest first) and its <see cref="ChunkWriter"/>.
/// Created by <see cref="LogStore"/> (on first write, or at start for categories in the catalog).
/// Thread safe: the chunk list is replaced copy-on-write, so listing and reads never block the writer.
/// </summary>
public sealed class CategoryLog : IAsyncDisposable
{
    private readonly Lock _chunksLock = new();
    private volatile Chunk[] _chunks = [];
    private volatile CategoryRecord _settings;
    private ChunkWriter? _writer;
    private TaskCompletionSource _dataArrived = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private readonly Action<Chunk>? _chunkSealed;

    internal CategoryLog(CategoryRecord settings, string directory, Action<Chunk>? chunkSealed = null)
    {
        _settings = settings;
        Directory = directory;
        _chunkSealed = chunkSealed;
    }

    internal void NotifySealed(Chunk chunk) => _chunkSealed?.Invoke(chunk);

    /// <summary>The store's current chunk listener (the replicator), read at each event.</summary>
    internal Func<IChunkListener?>? Listener { get; init; }

    public string Name => _settings.Name;
    public string Directory { get; }
    public CategoryRecord Settings => _settings;
    public IReadOnlyList<Chunk> Chunks => _chunks;

    internal ChunkWriter Writer => _writer ?? throw new InvalidOperationException("The category has no writer yet.");

    internal void StartWriter(IMetadataStore metadata, string owner, int queueLength, TimeProvider time, ILogger logger) =>
        _writer = new ChunkWriter(this, metadata, owner, queueLength, time, logger);

    /// <summary>
    /// Completes the next time new data is published (or a range is released). Long polls wait on it
    /// instead of polling files or the database; take it before checking for data so no wake-up is missed.
    /// </summary>
    public Task DataArrived => Volatile.Read(ref _dataArrived).Task;

    internal void SignalDataArrived() =>
        Interlocked.Exchange(ref _dataArrived, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();

    internal void UpdateSettings(CategoryRecord settings) => _settings = settings;

    internal void AddChunk(Chunk chunk)
    {
        lock (_chunksLock)
        {
            var next = new Chunk[_chunks.Length + 1];
            _chunks.CopyTo(next, 0);
            next[^1] = chunk;
            _chunks = next;
        }
    }

    /// <summary>The chunk named <paramref name="name"/>, or the one <paramref name="create"/> makes, added once under the list lock.</summary>
    internal Chunk GetOrAddChunk(string name, Func<Chunk> create)
    {
        lock (_chunksLock)
        {
            var existing = FindChunk(name);
            if (existing is not null)
                return existing;
            var chunk = create();
            var next = new Chunk[_chunks.Length + 1];
            _chunks.CopyTo(next, 0);
            next[^1] = chunk;
            _chunks = next;
            return chunk;
        }
    }

    public Chunk? FindChunk(string name)
    {
        foreach (var chunk in _chunks)
        {
            if (chunk.Name == name)
                return chunk;
        }
        return null;
    }

    /// <summary>
    /// Stops the writer (its active chunk is sealed); appends after this fail. The chunks stay open for readers. Every
    /// caller waits for the same close, so none goes on (a stopping host disposing what the seal still needs) before it ended.
    /// </summary>
    internal Task CloseWriterAsync()
    {
        lock (_chunksLock)
            return _writerClosed ??= _writer is null ? Task.CompletedTask : _writer.DisposeAsync().AsTask();
    }

    private Task? _writerClosed;

    public async ValueTask DisposeAsync()
    {
        await CloseWriterAsync();
        foreach (var chunk in _chunks)
        {
            chunk.Mirror?.Dispose();
            chunk.Dispose();
        }
    }
}
