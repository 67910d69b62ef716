using Microsoft.Extensions.Logging;
using OrleansBus.Silo.Metadata;

namespace OrleansBus.Silo.Storage;

public sealed partial class ChunkWriter
{
    /// <summary>Writes the queued group with one vectored write, indexes it, publishes it, and acknowledges it or queues its sync.</summary>
    private void FlushGroup()
    {
        if (_group.Count == 0)
            return;
        var chunk = _active!;
        var start = _activeSize;
        var position = start;
        var messages = _activeMessages;
        var now = _time.GetUtcNow().ToUnixTimeMilliseconds();
        for (var i = 0; i < _group.Count; i++)
        {
            var append = _group[i];
            append.Chunk = chunk;
            append.Offset = position;
            position += append.Batch.Length;
            messages += append.Messages;
            foreach (var segment in append.Batch)
                _segments.Add(segment);
            new IndexEntry(position, append.Messages, append.Crc, now).WriteTo(_indexBuffer.AsSpan(i * IndexEntry.Size, IndexEntry.Size));
        }

        var indexStart = _activeEntries * IndexEntry.Size;
        try
        {
            // Data before index: a crash between the two leaves only a torn tail that recovery cuts.
            WriteSegments(start);
            RandomAccess.Write(_index!, _indexBuffer.AsSpan(0, _group.Count * IndexEntry.Size), indexStart);
        }
        catch (IOException e)
        {
            RollBack(chunk, start, indexStart, e);
            return;
        }

        _activeSize = position;
        _activeMessages = messages;
        _activeEntries += _group.Count;
        chunk.Publish(position, messages);
        _log.SignalDataArrived();
        _log.Listener?.Invoke()?.Published(chunk);
        Log.BatchesWritten(_logger, _log.Name, chunk.Name, _group.Count, position - start);

        foreach (var append in _group)
        {
            if (!append.Fsync)
                append.Completion.TrySetResult(append.Result); // page cache: written and visible is what was asked
        }
        if (_group.Exists(a => a.Fsync))
            _syncer.Enqueue(chunk, _data!, _index!, [.. _group.Where(a => a.Fsync)]);
        _group.Clear();
        _segments.Clear();
    }

    /// <summary>pwritev takes at most IOV_MAX (1024) buffers per call; a group of 4 KiB request segments can hold more.</summary>
    private void WriteSegments(long position)
    {
        const int MaxBuffersPerWrite = 1024;
        if (_segments.Count <= MaxBuffersPerWrite)
        {
            RandomAccess.Write(_data!, _segments, position);
            return;
        }
        for (var first = 0; first < _segments.Count; first += MaxBuffersPerWrite)
        {
            var part = _segments.GetRange(first, Math.Min(MaxBuffersPerWrite, _segments.Count - first));
            RandomAccess.Write(_data!, part, position);
            foreach (var segment in part)
                position += segment.Length;
        }
    }

    /// <summary>Cuts a failed group's bytes back off so nothing of it stays on disk or becomes visible.</summary>
    private void RollBack(Chunk chunk, long dataLength, long indexLength, IOException error)
    {
        var diskFull = NativeFile.IsDiskFull(error);
        try
        {
            RandomAccess.SetLength(_data!, dataLength);
            RandomAccess.SetLength(_index!, indexLength);
        }
        catch (IOException e)
        {
            // Cannot even truncate: readers still never see the bytes (size not published), and recovery
            // cuts them as a torn tail. Stop appending to this chunk.
            Log.RollbackFailed(_logger, e, chunk.DataPath);
            RotateOut();
        }
        Log.WriteFailed(_logger, error, chunk.DataPath, dataLength, diskFull);
        foreach (var append in _group)
        {
            append.Completion.TrySetException(diskFull
                ? new DiskFullException($"No space left for {append.Batch.Length} bytes in {chunk.Name}.", error)
                : new IOException($"Writing {chunk.Name} failed: {error.Message}", error));
        }
        _group.Clear();
        _segments.Clear();
    }

    /// <summary>Creates the next chunk: catalog row first, then the files, so no file exists that the catalog does not name.</summary>
    private async Task<bool> TryOpenChunkAsync(AppendRequest first)
    {
        try
        {
            var seq = await _metadata.NextChunkSequenceAsync(_owner, _log.Name, CancellationToken.None);
            var name = ChunkName.Format(_owner, seq);
            var createdAt = _time.GetUtcNow();
            await _metadata.AddChunkAsync(new ChunkRecord(_log.Name, name, _owner, seq, ChunkStates.Active, 0, 0, createdAt, null), CancellationToken.None);
            var path = Path.Combine(_log.Directory, name);
            _data = File.OpenHandle(path, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.Read);
            _index = File.OpenHandle(path + ".idx", FileMode.CreateNew, FileAccess.ReadWrite, FileShare.Read);
            _activeSize = _activeMessages = _activeEntries = 0;
            var chunk = new Chunk(_log.Name, name, _owner, seq, path, ChunkStates.Active, 0, 0, createdAt);
            if (_log.Listener?.Invoke() is { } listener)
                await listener.OpenedAsync(chunk);
            _log.AddChunk(chunk);
            Volatile.Write(ref _active, chunk);
            Log.ChunkOpened(_logger, _log.Name, name);
            return true;
        }
        catch (Exception e) when (e is IOException or MetadataStoreException or UnauthorizedAccessException)
        {
            _data?.Dispose();
            _index?.Dispose();
            _data = _index = null;
            Log.ChunkOpenFailed(_logger, e, _log.Name);
            first.Completion.TrySetException(e is IOException io && NativeFile.IsDiskFull(io)
                ? new DiskFullException("No space left to create a chunk.", io)
                : e);
            return false;
        }
    }

    /// <summary>Stops appending to the active chunk and hands it to the sealer.</summary>
    private void RotateOut()
    {
        var chunk = _active!;
        _syncer.Seal(new SealJob(chunk, _data!, _index!, _activeSize, _activeMessages)); // after the syncs queued before it
        Volatile.Write(ref _active, null);
        _log.Listener?.Invoke()?.RotatedOut(chunk);
        _data = _index = null;
    }
}
