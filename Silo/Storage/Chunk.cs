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

    /// <summary>Makes newly written whole batches visible to readers. Called by the writer only.</summary>
    internal void Publish(long size, long messages)
    {
        Volatile.Write(ref _messages, messages);
        Volatile.Write(ref _size, size);
    }

    internal void SetState(string state) => _state = state;

    internal void MarkCorrupt(string reason)
    {
        CorruptReason = reason;
        _state = ChunkStates.Corrupt;
    }

    /// <summary>A shared read-only handle; pread on it is safe from many threads at once.</summary>
    public SafeFileHandle ReadHandle()
    {
        var handle = Volatile.Read(ref _readHandle);
        if (handle is not null)
            return handle;
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
