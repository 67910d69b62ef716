using System.Collections.Concurrent;
using OrleansBus.Contracts.Grains;

namespace OrleansBus.Gateway.Routing;

/// <summary>
/// Which live silos a produce to a category may go to: the category grain's writer set
/// (<see cref="ICategoryGrain.GetWritersAsync"/>), cached per category for <see cref="MaxAge"/> and refreshed in the
/// background after that, so only a category's first produce waits for the grain. When the grain cannot answer, or
/// its set and the directory share no silo (one of them a moment behind the other), every live silo is a candidate:
/// routing never stops because the control plane is slow.
/// </summary>
internal sealed class WriterSets(ClusterConnection cluster, TimeProvider time, ILogger<WriterSets> logger)
{
    internal static readonly TimeSpan MaxAge = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan FirstAskTimeout = TimeSpan.FromSeconds(1);
    private const int MaxCategories = 10_000;
    private readonly ConcurrentDictionary<string, Entry> _entries = new(StringComparer.Ordinal);

    /// <summary>The live silos that write <paramref name="category"/>; <paramref name="live"/> itself when nothing narrows it.</summary>
    public async ValueTask<IReadOnlyList<SiloEntry>> FilterAsync(string category, IReadOnlyList<SiloEntry> live, CancellationToken cancellationToken)
    {
        if (cluster.Client is not { } client)
            return live; // not connected yet (then nothing is live either)
        if (!_entries.TryGetValue(category, out var entry))
        {
            if (_entries.Count >= MaxCategories)
                _entries.Clear(); // a bound, not a policy: the sets are cheap to ask again
            entry = _entries.GetOrAdd(category, _ => new Entry(time));
        }
        if (!entry.Asked)
        {
            try
            {
                await entry.RefreshAsync(client, category, logger).WaitAsync(FirstAskTimeout, cancellationToken);
            }
            catch (TimeoutException)
            {
                // Route by the directory this time; the refresh goes on and the next produce uses its answer.
            }
        }
        else if (entry.IsStale)
        {
            _ = entry.RefreshAsync(client, category, logger);
        }
        var writers = entry.Writers;
        return writers is null ? live : Narrow(live, writers);
    }

    internal static IReadOnlyList<SiloEntry> Narrow(IReadOnlyList<SiloEntry> live, string[] writers)
    {
        var narrowed = new List<SiloEntry>(live.Count);
        foreach (var silo in live)
        {
            if (Array.BinarySearch(writers, silo.Id, StringComparer.Ordinal) >= 0)
                narrowed.Add(silo);
        }
        return narrowed.Count == 0 ? live : narrowed;
    }

    private sealed class Entry(TimeProvider time)
    {
        private readonly Lock _lock = new();
        private Task? _refresh;
        private long _askedAt;

        /// <summary>The last set the grain gave; kept while the grain cannot answer (<see cref="Narrow"/> drops dead silos).</summary>
        public string[]? Writers { get; private set; }

        /// <summary>An ask has ended (answered or failed): later produces no longer wait for the grain.</summary>
        public bool Asked { get; private set; }

        public bool IsStale => time.GetElapsedTime(Volatile.Read(ref _askedAt)) > MaxAge;

        // One refresh per category at a time; callers that arrive meanwhile share it.
        public Task RefreshAsync(IClusterClient client, string category, ILogger logger)
        {
            lock (_lock)
            {
                if (_refresh is { IsCompleted: false } running)
                    return running;
                Volatile.Write(ref _askedAt, time.GetTimestamp());
                return _refresh = AskAsync(client, category, logger);
            }
        }

        private async Task AskAsync(IClusterClient client, string category, ILogger logger)
        {
            try
            {
                var writers = await client.GetGrain<ICategoryGrain>(category).GetWritersAsync();
                Array.Sort(writers, StringComparer.Ordinal);
                Writers = writers;
            }
            catch (Exception e)
            {
                Log.WriterSetUnreadable(logger, category, e.Message);
            }
            finally
            {
                Asked = true;
            }
        }
    }
}
