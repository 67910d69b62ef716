using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Microsoft.Win32.SafeHandles;
using OrleansBus.Silo.Metadata;

namespace OrleansBus.Silo.Storage;

/// <summary>A chunk that stopped taking appends, with its writer's handles and final size.</summary>
internal sealed record SealJob(Chunk Chunk, SafeFileHandle Data, SafeFileHandle Index, long Size, long Messages);

/// <summary>
/// Makes a rotated chunk final: fdatasync of data and index, then the catalog row says sealed with the
/// final size and message count. Only then is the state "sealed" — it is never inferred from files.
/// Runs off the writer loop; retries the catalog update until it succeeds or the silo stops (recovery
/// then seals the chunk at start). A chunk a replica already sealed (this silo was counted dead) keeps the
/// replica's seal: readers here see its size, and the tail is re-published at the next start.
/// </summary>
internal sealed class Sealer : IAsyncDisposable
{
    private readonly IMetadataStore _metadata;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Channel<SealJob> _jobs = Channel.CreateUnbounded<SealJob>(new UnboundedChannelOptions { SingleReader = true });
    private readonly CancellationTokenSource _stopping = new();
    private readonly Task _loop;

    private readonly Action<Chunk>? _sealed;

    /// <param name="sealed">Told of each chunk once the catalog says sealed (the archiver's queue); must not block.</param>
    public Sealer(IMetadataStore metadata, TimeProvider time, ILogger logger, Action<Chunk>? @sealed = null)
    {
        _sealed = @sealed;
        _metadata = metadata;
        _time = time;
        _logger = logger;
        _loop = Task.Run(RunAsync);
    }

    public void Enqueue(SealJob job) => _jobs.Writer.TryWrite(job);

    private async Task RunAsync()
    {
        await foreach (var job in _jobs.Reader.ReadAllAsync())
        {
            try
            {
                NativeFile.DataSync(job.Data);
                NativeFile.DataSync(job.Index);
            }
            catch (IOException e)
            {
                Log.SyncFailed(_logger, e, job.Chunk.DataPath);
            }
            finally
            {
                job.Data.Dispose();
                job.Index.Dispose();
            }
            await RecordSealedAsync(job);
        }
    }

    private async Task RecordSealedAsync(SealJob job)
    {
        var delay = TimeSpan.FromMilliseconds(100);
        while (true)
        {
            try
            {
                var sealedAt = _time.GetUtcNow();
                if (!await _metadata.UpdateChunkAsync(job.Chunk.Category, job.Chunk.Name, ChunkStates.Sealed, job.Size, job.Messages, sealedAt, CancellationToken.None))
                {
                    await AdoptReplicaSealAsync(job);
                    return;
                }
                job.Chunk.SealedAt = sealedAt;
                job.Chunk.SetState(ChunkStates.Sealed);
                _sealed?.Invoke(job.Chunk);
                Log.ChunkSealed(_logger, job.Chunk.Category, job.Chunk.Name, job.Size, job.Messages);
                return;
            }
            catch (MetadataStoreException e)
            {
                Log.SealRecordFailed(_logger, e, job.Chunk.Name);
                if (_stopping.IsCancellationRequested)
                    return;
                try
                {
                    await Task.Delay(delay, _time, _stopping.Token);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
                delay = TimeSpan.FromMilliseconds(Math.Min(delay.TotalMilliseconds * 2, 5000));
            }
        }
    }

    /// <summary>
    /// A replica sealed this chunk while its owner (this silo) was counted dead: the catalog's size is final and this
    /// silo's bytes past it were never acknowledged after the seal (the fence). Readers here see the catalog's size; the
    /// tail stays in the file until the next start re-publishes it as a new chunk. Not archived from here: the sealing
    /// replica archives its copy.
    /// </summary>
    private async Task AdoptReplicaSealAsync(SealJob job)
    {
        foreach (var row in await _metadata.ListChunksAsync(job.Chunk.Category, CancellationToken.None))
        {
            if (row.Name != job.Chunk.Name)
                continue;
            if (row.State == ChunkStates.Expired)
                return; // an active chunk expires only with its category's deletion: nothing to adopt, its files go
            // The writer has let go of the chunk (it is here to be sealed), so nobody else publishes to it any more.
            job.Chunk.Publish(Math.Min(row.Size, job.Size), row.Messages);
            job.Chunk.ApplyCatalog(row.State, row.Size, row.SealedAt, row.SealedBy);
            Log.SealedElsewhere(_logger, job.Chunk.Category, job.Chunk.Name, row.SealedBy ?? "?", row.Size, job.Size);
        }
    }

    public async ValueTask DisposeAsync()
    {
        _jobs.Writer.TryComplete();
        // Give pending seals a bounded chance to finish; whatever does not is sealed by recovery at next start.
        if (await Task.WhenAny(_loop, Task.Delay(TimeSpan.FromSeconds(30))) != _loop)
            await _stopping.CancelAsync();
        await _loop;
        _stopping.Dispose();
    }
}
