using Microsoft.Extensions.Logging;
using OrleansBus.Silo.Metadata;

namespace OrleansBus.Silo.Storage;

public sealed partial class LogStore
{
    /// <summary>One batch of an own chunk's tail past the size a replica sealed it at, to append again as new data.</summary>
    private sealed record TailBatch(byte[] Bytes, int Messages, uint Crc);

    /// <summary>
    /// An own chunk that a replica sealed while this silo was counted dead: the catalog's size (what the replicas held)
    /// is the chunk's size everywhere. Batches this silo wrote past it are cut from the chunk and returned, to be appended
    /// again (to a new chunk) once the writer runs, so nothing this silo acknowledged disappears. A local copy shorter than
    /// the sealed size (an OS crash lost its tail) is quarantined here; the replica that sealed it serves it.
    /// </summary>
    private List<TailBatch> CutTailPastReplicaSeal(Chunk chunk)
    {
        if (!File.Exists(chunk.DataPath))
            return []; // archived, and the local copy dropped: nothing to compare
        using var data = File.OpenHandle(chunk.DataPath, FileMode.Open, FileAccess.ReadWrite, FileShare.Read);
        using var index = File.OpenHandle(chunk.IndexPath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.Read);
        var recovered = ChunkRecovery.Recover(data, index);
        var sealedSize = chunk.Size;
        if (recovered.IsCorrupt || recovered.ValidSize < sealedSize)
        {
            chunk.MarkCorrupt($"the local copy holds {recovered.ValidSize} bytes of the {sealedSize} that {chunk.SealedBy} sealed; read it through another silo");
            Log.ChunkFileMismatch(_logger, chunk.DataPath, chunk.State, sealedSize, recovered.ValidSize);
            return [];
        }
        if (recovered.ValidSize == sealedSize)
            return [];
        var entries = new List<IndexEntry>(recovered.Batches);
        Span<byte> entryBytes = stackalloc byte[IndexEntry.Size];
        for (var i = 0; i < recovered.Batches; i++)
        {
            RandomAccess.Read(index, entryBytes, (long)i * IndexEntry.Size);
            if (!IndexEntry.TryRead(entryBytes, out var entry))
                break;
            entries.Add(entry);
        }
        var kept = sealedSize == 0 ? 0 : entries.FindIndex(e => e.EndOffset == sealedSize) + 1;
        if (kept == 0 && sealedSize != 0)
        {
            chunk.MarkCorrupt($"no batch of the local copy ends at the size {chunk.SealedBy} sealed ({sealedSize})");
            return [];
        }
        var tail = new List<TailBatch>(entries.Count - kept);
        var start = sealedSize;
        for (var i = kept; i < entries.Count; i++)
        {
            var bytes = new byte[entries[i].EndOffset - start];
            RandomAccess.Read(data, bytes, start);
            tail.Add(new TailBatch(bytes, entries[i].Messages, entries[i].BatchCrc));
            start = entries[i].EndOffset;
        }
        // Cut only after the tail is in memory; if the process dies before re-publishing, the next start finds the
        // same longer file again (the cut is made durable after the re-published batches are).
        Log.TailRepublished(_logger, chunk.Category, chunk.Name, chunk.SealedBy ?? "?", sealedSize, recovered.ValidSize - sealedSize, tail.Count);
        _cuts.Add((chunk, kept));
        return tail;
    }

    private readonly List<(Chunk Chunk, int KeptEntries)> _cuts = [];

    /// <summary>Appends the cut tails as new batches (fsync), then truncates the old chunks to their sealed size.</summary>
    private async Task RepublishAsync(List<(CategoryLog Log, List<TailBatch> Batches)> tails)
    {
        foreach (var (log, batches) in tails)
        {
            foreach (var batch in batches)
                await log.Writer.AppendAsync(new AppendRequest(batch.Bytes, batch.Messages, batch.Crc, fsync: true));
        }
        foreach (var (chunk, kept) in _cuts)
        {
            using var data = File.OpenHandle(chunk.DataPath, FileMode.Open, FileAccess.ReadWrite, FileShare.Read);
            using var index = File.OpenHandle(chunk.IndexPath, FileMode.Open, FileAccess.ReadWrite, FileShare.Read);
            RandomAccess.SetLength(data, chunk.Size);
            RandomAccess.SetLength(index, (long)kept * IndexEntry.Size);
            NativeFile.DataSync(data);
            NativeFile.DataSync(index);
        }
        _cuts.Clear();
    }
}
