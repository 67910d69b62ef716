using OrleansBus.Silo.Storage;

namespace OrleansBus.Silo.Replication;

/// <summary>One active chunk's replicas: what each peer acknowledged, and the produces waiting for enough of them.</summary>
internal sealed class ChunkReplication(Chunk chunk, string[] peers)
{
    private readonly Lock _lock = new();
    private readonly Dictionary<string, long> _held = peers.ToDictionary(p => p, _ => 0L, StringComparer.Ordinal);
    private readonly List<(long End, int Replicas, TaskCompletionSource<int> Done)> _waiters = [];
    private TaskCompletionSource _signal = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _loopsRunning = peers.Length;

    public Chunk Chunk { get; } = chunk;
    public List<Task> Loops { get; } = [];
    public volatile bool Rotated;

    public Task NextSignal => Volatile.Read(ref _signal).Task;

    public void Signal() =>
        Interlocked.Exchange(ref _signal, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();

    public int CountAtLeast(long end)
    {
        lock (_lock)
        {
            return CountLocked(end);
        }
    }

    private int CountLocked(long end)
    {
        var count = 0;
        foreach (var held in _held.Values)
        {
            if (held >= end)
                count++;
        }
        return count;
    }

    public TaskCompletionSource<int> AddWaiter(long end, int replicas)
    {
        var done = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_lock)
        {
            var count = CountLocked(end);
            if (count >= replicas)
                done.TrySetResult(count);
            else
                _waiters.Add((end, replicas, done));
        }
        return done;
    }

    public void Acknowledge(string peer, long size)
    {
        lock (_lock)
        {
            _held[peer] = Math.Max(_held[peer], size);
            for (var i = _waiters.Count - 1; i >= 0; i--)
            {
                var (end, replicas, done) = _waiters[i];
                var count = CountLocked(end);
                if (count >= replicas)
                {
                    done.TrySetResult(count);
                    _waiters.RemoveAt(i);
                }
            }
        }
    }

    public bool Holds(string peer)
    {
        lock (_lock)
        {
            return _held.ContainsKey(peer);
        }
    }

    /// <summary>Swaps a dead peer for a live one (whose copy starts empty); false when the new peer is already a replica.</summary>
    public bool Replace(string dead, string replacement)
    {
        lock (_lock)
        {
            if (_held.ContainsKey(replacement) || !_held.Remove(dead))
                return false;
            _held[replacement] = 0;
            Interlocked.Increment(ref _loopsRunning);
            return true;
        }
    }

    /// <summary>True for the last loop to end: the chunk is fully replicated (or abandoned) and can be forgotten.</summary>
    public bool LoopEnded() => Interlocked.Decrement(ref _loopsRunning) == 0;
}
