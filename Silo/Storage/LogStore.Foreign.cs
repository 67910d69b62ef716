using OrleansBus.Silo.Metadata;
using OrleansBus.Silo.Replication;

namespace OrleansBus.Silo.Storage;

public sealed partial class LogStore
{
    private readonly Lock _mirrorLock = new();

    /// <summary>
    /// The chunk of another silo as this silo knows it, added on first sight (from the catalog, or a replica push that
    /// arrived before the catalog was read). It holds no bytes until a push or a pull writes its local copy.
    /// </summary>
    internal Chunk GetOrAddForeign(CategoryLog log, string name, string owner, long seq, DateTimeOffset createdAt)
    {
        if (owner == SiloId)
            throw new InvalidOperationException($"{name} belongs to this silo; it is not foreign.");
        return log.GetOrAddChunk(name, () => new Chunk(log.Name, name, owner, seq, Path.Combine(log.Directory, name), ChunkStates.Active, 0, 0, createdAt)
        {
            IsForeign = true,
        });
    }

    /// <summary>The local copy of a foreign chunk, opened (or created) on first use.</summary>
    internal ChunkMirror MirrorOf(Chunk chunk, CategoryLog log)
    {
        if (!chunk.IsForeign)
            throw new InvalidOperationException($"{chunk.Name} is this silo's own chunk; it has no mirror.");
        if (chunk.Mirror is { } mirror)
            return mirror;
        lock (_mirrorLock)
        {
            return chunk.Mirror ??= ChunkMirror.Open(chunk, log);
        }
    }

    /// <summary>At start: a foreign chunk from the catalog, with the copy an earlier run left (recovered), if any.</summary>
    private Chunk LoadForeign(CategoryLog log, ChunkRecord row)
    {
        var chunk = GetOrAddForeign(log, row.Name, row.Owner, row.Seq, row.CreatedAt);
        chunk.ApplyCatalog(row.State, row.Size, row.SealedAt, row.SealedBy);
        chunk.FinalMessages = row.Messages;
        if (row.State == ChunkStates.Expired)
            DeleteExpiredFiles(chunk); // the copy of a chunk that expired while this silo was down
        else if (File.Exists(chunk.DataPath))
            MirrorOf(chunk, log);
        return chunk;
    }
}
