using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using OrleansBus.Silo.Metadata;
using OrleansBus.Silo.Storage;

namespace OrleansBus.Silo.Telemetry;

/// <summary>
/// Gauges read from the silo's <see cref="LogStore"/> when metrics are collected: chunks held here by category, state and
/// whether this silo owns them or keeps a copy (<c>orleansbus.chunks</c>), and the archive backlog — own chunks sealed
/// but not yet archived, as a count and in bytes. Each running store registers itself (a test process may run several
/// silos; the <c>silo</c> tag tells them apart) and leaves when it is disposed.
/// </summary>
internal static class StoreGauges
{
    private static readonly ConcurrentDictionary<LogStore, byte> Stores = new();

    static StoreGauges()
    {
        BusTelemetry.Meter.CreateObservableGauge("orleansbus.chunks", ObserveChunks, "{chunk}",
            "Chunks held by this silo, by category, state and whether it owns them ('own') or keeps a copy ('copy').");
        BusTelemetry.Meter.CreateObservableGauge("orleansbus.archive.backlog", ObserveBacklogChunks, "{chunk}",
            "Own chunks sealed but not yet archived.");
        BusTelemetry.Meter.CreateObservableGauge("orleansbus.archive.backlog_bytes", ObserveBacklogBytes, "By",
            "Bytes of own chunks sealed but not yet archived.");
    }

    public static void Track(LogStore store) => Stores.TryAdd(store, 0);

    public static void Untrack(LogStore store) => Stores.TryRemove(store, out _);

    private static IEnumerable<Measurement<long>> ObserveChunks()
    {
        foreach (var store in Stores.Keys)
        {
            foreach (var log in store.All())
            {
                var counts = new Dictionary<(string State, bool Own), long>();
                foreach (var chunk in log.Chunks)
                    counts[(chunk.State, !chunk.IsForeign)] = counts.GetValueOrDefault((chunk.State, !chunk.IsForeign)) + 1;
                foreach (var ((state, own), count) in counts)
                {
                    yield return new Measurement<long>(count,
                        new("silo", store.SiloId), new("category", log.Name), new("state", state), new("held", own ? "own" : "copy"));
                }
            }
        }
    }

    private static IEnumerable<Measurement<long>> ObserveBacklogChunks() => Backlog(bytes: false);

    private static IEnumerable<Measurement<long>> ObserveBacklogBytes() => Backlog(bytes: true);

    private static IEnumerable<Measurement<long>> Backlog(bool bytes)
    {
        foreach (var store in Stores.Keys)
        {
            long total = 0;
            foreach (var log in store.All())
            {
                foreach (var chunk in log.Chunks)
                {
                    if (!chunk.IsForeign && chunk.State == ChunkStates.Sealed)
                        total += bytes ? chunk.Size : 1;
                }
            }
            yield return new Measurement<long>(total, new KeyValuePair<string, object?>("silo", store.SiloId));
        }
    }
}
