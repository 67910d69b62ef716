using Microsoft.Extensions.Logging;
using OrleansBus.Silo.Metadata;

namespace OrleansBus.Silo.Storage;

public sealed partial class LogStore
{
    /// <summary>
    /// Takes the directory lock and migrates the catalog (and Orleans' tables). Idempotent. The silo does this before
    /// Orleans starts: the clustering tables must exist, and a second process on the same directory must fail before it
    /// joins the cluster under this silo's name.
    /// </summary>
    public async Task PrepareAsync(CancellationToken cancellationToken)
    {
        if (_prepared)
            return;
        System.IO.Directory.CreateDirectory(DataDir);
        _lock ??= DataDirectoryLock.Acquire(DataDir);
        System.IO.Directory.CreateDirectory(CategoriesDir);
        await _metadata.MigrateAsync(cancellationToken);
        _prepared = true;
    }

    private bool _prepared;

    /// <summary>
    /// Prepares (see <see cref="PrepareAsync"/>) and loads every category. Active chunks of this
    /// silo were not sealed, so the last run stopped uncleanly: each is recovered (torn tail cut, or
    /// quarantined as corrupt) and sealed at its recovered size, and new appends go to a new chunk.
    /// </summary>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await PrepareAsync(cancellationToken);

        int chunks = 0, recovered = 0;
        var tails = new List<(CategoryLog Log, List<TailBatch> Batches)>();
        var rowsByCategory = new Dictionary<string, HashSet<string>>(StringComparer.Ordinal);
        foreach (var record in await _metadata.ListCategoriesAsync(cancellationToken))
        {
            var directory = Path.Combine(CategoriesDir, record.Name);
            System.IO.Directory.CreateDirectory(directory);
            var log = new CategoryLog(record, directory, NotifySealed) { Listener = () => ChunkListener };
            var names = rowsByCategory[record.Name] = new HashSet<string>(StringComparer.Ordinal);
            foreach (var row in await _metadata.ListChunksAsync(record.Name, cancellationToken))
            {
                names.Add(row.Name);
                // With a shared catalog (PostgreSQL) other silos' chunks are listed too: known here, read through a local copy.
                if (row.Owner != _options.SiloId)
                {
                    LoadForeign(log, row);
                    chunks++;
                    continue;
                }
                var chunk = new Chunk(row.Category, row.Name, row.Owner, row.Seq, Path.Combine(directory, row.Name), row.State, row.Size, row.Messages, row.CreatedAt) { SealedAt = row.SealedAt, SealedBy = row.SealedBy };
                if (row.State == ChunkStates.Expired)
                {
                    DeleteExpiredFiles(chunk); // expired while this silo was down, or it stopped half-way through deleting
                }
                else if (row.SealedBy is not null && row.SealedBy != _options.SiloId)
                {
                    var tail = CutTailPastReplicaSeal(chunk);
                    if (tail.Count > 0)
                        tails.Add((log, tail));
                }
                else if (row.State == ChunkStates.Active && row.Owner == _options.SiloId)
                {
                    await RecoverAsync(chunk, cancellationToken);
                    recovered++;
                }
                else if (row.State == ChunkStates.Sealed)
                {
                    CheckSealedFile(chunk);
                }
                // An archived chunk whose local file retention dropped is not corrupt: the Archiver serves it from the archive.
                log.AddChunk(chunk);
                chunks++;
            }
            log.StartWriter(_metadata, _options.SiloId, _options.WriterQueueLength, _time, _logger);
            _categories[record.Name] = log;
        }
        DeleteFilesOfDeletedCategories(rowsByCategory); // listed without the categories being deleted: their grains say so
        await RepublishAsync(tails);
        _ready = true;
        Log.StorageReady(_logger, DataDir, _categories.Count, chunks, recovered);
    }

    private async Task RecoverAsync(Chunk chunk, CancellationToken cancellationToken)
    {
        if (!File.Exists(chunk.DataPath))
        {
            // The catalog row is written before the file is created: a crash between the two leaves an empty chunk.
            await using (File.Create(chunk.DataPath)) { }
            await using (File.Create(chunk.IndexPath)) { }
        }
        RecoveryResult result;
        using (var data = File.OpenHandle(chunk.DataPath, FileMode.Open, FileAccess.ReadWrite, FileShare.Read))
        using (var index = File.OpenHandle(chunk.IndexPath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.Read))
        {
            result = ChunkRecovery.Recover(data, index);
            if (!result.IsCorrupt)
            {
                NativeFile.DataSync(data);
                NativeFile.DataSync(index);
            }
        }
        if (result.IsCorrupt)
        {
            Log.ChunkCorrupt(_logger, chunk.DataPath, result.CorruptAtOffset!.Value, result.CorruptReason!);
            chunk.MarkCorrupt($"checksum mismatch at offset {result.CorruptAtOffset}: {result.CorruptReason}");
            chunk.Publish(result.ValidSize, result.Messages);
            await _metadata.UpdateChunkAsync(chunk.Category, chunk.Name, ChunkStates.Corrupt, result.ValidSize, result.Messages, null, cancellationToken);
            return;
        }
        if (result.CutDataBytes > 0 || result.CutIndexBytes > 0)
            Log.TornTailCut(_logger, chunk.DataPath, result.CutDataBytes, result.CutIndexBytes, result.ValidSize, result.Batches);
        chunk.Publish(result.ValidSize, result.Messages);
        var sealedAt = _time.GetUtcNow();
        await _metadata.UpdateChunkAsync(chunk.Category, chunk.Name, ChunkStates.Sealed, result.ValidSize, result.Messages, sealedAt, cancellationToken);
        chunk.SealedAt = sealedAt;
        chunk.SetState(ChunkStates.Sealed);
    }

    /// <summary>A sealed chunk whose file is missing or shorter than its recorded size cannot be served from here.</summary>
    private void CheckSealedFile(Chunk chunk)
    {
        var length = File.Exists(chunk.DataPath) ? new FileInfo(chunk.DataPath).Length : -1;
        if (length >= chunk.Size)
            return;
        Log.ChunkFileMismatch(_logger, chunk.DataPath, chunk.State, chunk.Size, length);
        chunk.MarkCorrupt(length < 0 ? "the chunk file is missing" : $"the chunk file holds {length} of {chunk.Size} bytes");
    }
}
