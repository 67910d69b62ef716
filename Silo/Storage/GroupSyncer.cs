using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Microsoft.Win32.SafeHandles;

namespace OrleansBus.Silo.Storage;

/// <summary>
/// The fdatasync half of a <see cref="ChunkWriter"/>'s group commit, on its own loop, so the writer can write the
/// next group while this one is being synced (a sync and a large write no longer add up). Everything queued when
/// the loop wakes is covered by one fdatasync of data and index per chunk — an fdatasync covers every write made
/// before it — and then acknowledged. A rotated chunk's seal job passes through here, in order, so the sealer
/// closes the chunk's handles only after every sync that used them.
/// </summary>
internal sealed class GroupSyncer : IAsyncDisposable
{
    private readonly Channel<object> _work = Channel.CreateUnbounded<object>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
    private readonly Sealer _sealer;
    private readonly ILogger _logger;
    private readonly Task _loop;
    private readonly List<SyncWork> _batch = [];
    private readonly List<SealJob> _seals = [];
    private long _syncs;

    public GroupSyncer(Sealer sealer, ILogger logger)
    {
        _sealer = sealer;
        _logger = logger;
        _loop = Task.Run(RunAsync);
    }

    /// <summary>fdatasync pairs (data + index) made so far.</summary>
    public long Syncs => Interlocked.Read(ref _syncs);

    /// <summary>Syncs the chunk's files, then completes <paramref name="appends"/> (written, not yet acknowledged).</summary>
    public void Enqueue(Chunk chunk, SafeFileHandle data, SafeFileHandle index, AppendRequest[] appends) =>
        _work.Writer.TryWrite(new SyncWork(chunk, data, index, appends));

    /// <summary>Hands the rotated chunk to the sealer after every sync queued before it.</summary>
    public void Seal(SealJob job) => _work.Writer.TryWrite(job);

    private async Task RunAsync()
    {
        var reader = _work.Reader;
        while (await reader.WaitToReadAsync())
        {
            while (reader.TryRead(out var item))
            {
                if (item is SyncWork work)
                    _batch.Add(work);
                else
                    _seals.Add((SealJob)item);
            }
            SyncAndAcknowledge();
            foreach (var seal in _seals)
                _sealer.Enqueue(seal);
            _seals.Clear();
        }
    }

    private void SyncAndAcknowledge()
    {
        // Works arrive in write order, so those of one chunk are adjacent: one sync per run of them.
        for (var first = 0; first < _batch.Count;)
        {
            var last = first;
            while (last + 1 < _batch.Count && _batch[last + 1].Data == _batch[first].Data)
                last++;
            var error = TrySync(_batch[last]);
            if (error is null)
            {
                var batches = 0;
                for (var i = first; i <= last; i++)
                    batches += _batch[i].Appends.Length;
                Telemetry.BusTelemetry.BatchesPerFsync.Record(batches);
            }
            for (var i = first; i <= last; i++)
            {
                foreach (var append in _batch[i].Appends)
                {
                    if (error is not null)
                        append.Completion.TrySetException(error);
                    else
                        append.Completion.TrySetResult(append.Result);
                }
            }
            first = last + 1;
        }
        _batch.Clear();
    }

    private IOException? TrySync(SyncWork work)
    {
        try
        {
            var started = System.Diagnostics.Stopwatch.GetTimestamp();
            NativeFile.DataSync(work.Data);
            NativeFile.DataSync(work.Index);
            Telemetry.BusTelemetry.FsyncDuration.Record(System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            Interlocked.Increment(ref _syncs);
            return null;
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException)
        {
            // The bytes are written (and visible) but not known durable: fsync callers get an error and may retry
            // (at-least-once). Nothing here may end the loop, or later fsync batches would wait forever.
            Log.SyncFailed(_logger, e, work.Chunk.DataPath);
            return new IOException($"fdatasync of {work.Chunk.Name} failed.", e);
        }
    }

    public async ValueTask DisposeAsync()
    {
        _work.Writer.TryComplete();
        await _loop;
    }

    private sealed record SyncWork(Chunk Chunk, SafeFileHandle Data, SafeFileHandle Index, AppendRequest[] Appends);
}
