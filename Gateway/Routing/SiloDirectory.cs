namespace OrleansBus.Gateway.Routing;

/// <summary>What one refresh learned about one silo.</summary>
/// <param name="Id">Silo id.</param>
/// <param name="Address">Base URL.</param>
/// <param name="IsLive">Whether the source says it is live (Active in the cluster's membership).</param>
/// <param name="EvidenceAtMs">Unix ms of the evidence: when the cluster was asked.</param>
public readonly record struct SiloObservation(string Id, Uri Address, bool IsLive, long EvidenceAtMs);

/// <summary>
/// The gateway's view of the cluster: every known silo and the live subset. Written by
/// <see cref="SiloRefresher"/> (one refresh at a time) and by forwards that fail to connect; read on every
/// request without a lock (the live array is replaced, never mutated, so a reader holds a stable snapshot).
/// </summary>
public sealed class SiloDirectory
{
    private readonly Lock _lock = new();
    private readonly TimeProvider _time;
    private SiloEntry[] _all = [];
    private SiloEntry[] _live = [];

    /// <summary>Creates an empty directory; nothing is live until the first refresh.</summary>
    public SiloDirectory(TimeProvider time) => _time = time;

    /// <summary>Every known silo, live or not (a snapshot).</summary>
    public IReadOnlyList<SiloEntry> All => Volatile.Read(ref _all);

    /// <summary>The silos requests may go to now (a snapshot).</summary>
    public IReadOnlyList<SiloEntry> Live => Volatile.Read(ref _live);

    /// <summary>Replaces the known set with one refresh's observations, keeping entries (and their counters) by id and address.</summary>
    internal void Apply(IReadOnlyList<SiloObservation> observations)
    {
        lock (_lock)
        {
            var previous = _all;
            var next = new SiloEntry[observations.Count];
            for (var i = 0; i < observations.Count; i++)
            {
                var seen = observations[i];
                var entry = Find(previous, seen.Id, seen.Address) ?? new SiloEntry(seen.Id, seen.Address);
                var live = seen.IsLive;
                if (entry.SuspectedAtMs != 0)
                {
                    // A failed connect outranks evidence older than it (a membership answer from before the crash).
                    if (live && seen.EvidenceAtMs > entry.SuspectedAtMs)
                        entry.SuspectedAtMs = 0;
                    else
                        live = false;
                }
                entry.IsLive = live && !entry.IsUnresponsive;
                next[i] = entry;
            }
            Publish(next);
        }
    }

    /// <summary>Marks a silo not live at once after a forward could not connect; the next refresh with newer evidence revives it.</summary>
    internal void MarkUnreachable(SiloEntry entry)
    {
        lock (_lock)
        {
            entry.SuspectedAtMs = _time.GetUtcNow().ToUnixTimeMilliseconds();
            entry.IsLive = false;
            Publish(_all);
        }
    }

    /// <summary>Takes a silo out after it did not answer a forward in time; only <see cref="MarkResponsive"/> brings it back.</summary>
    internal void MarkUnresponsive(SiloEntry entry)
    {
        lock (_lock)
        {
            entry.IsUnresponsive = true;
            entry.IsLive = false;
            Publish(_all);
        }
    }

    /// <summary>The silo answered a health check again: live once more if membership and connects allow.</summary>
    internal void MarkResponsive(SiloEntry entry)
    {
        lock (_lock)
        {
            entry.IsUnresponsive = false;
            entry.IsLive = entry.SuspectedAtMs == 0 && Array.IndexOf(_all, entry) >= 0;
            Publish(_all);
        }
    }

    private void Publish(SiloEntry[] all)
    {
        var live = new List<SiloEntry>(all.Length);
        foreach (var entry in all)
        {
            if (entry.IsLive)
                live.Add(entry);
        }
        Volatile.Write(ref _all, all);
        Volatile.Write(ref _live, [.. live]);
    }

    private static SiloEntry? Find(SiloEntry[] entries, string id, Uri address)
    {
        foreach (var entry in entries)
        {
            if (entry.Id == id && entry.Address == address)
                return entry;
        }
        return null;
    }
}
