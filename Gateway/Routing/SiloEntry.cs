namespace OrleansBus.Gateway.Routing;

/// <summary>
/// One known silo as the gateway sees it: identity, base address, whether requests may go to it, and how many
/// forwarded requests are in flight there. Thread-safe: the refresher flips liveness while requests count
/// themselves in and out. An entry lives as long as its silo keeps the same id and address, so its
/// outstanding count survives refreshes.
/// </summary>
public sealed class SiloEntry
{
    private int _outstanding;
    private volatile bool _isLive;

    internal SiloEntry(string id, Uri address)
    {
        Id = id;
        Address = address;
        AddressText = address.GetLeftPart(UriPartial.Authority);
    }

    /// <summary>The silo id in Orleans membership: what <c>Bus-Silo</c> reports.</summary>
    public string Id { get; }

    /// <summary>Base URL, e.g. <c>http://127.0.0.1:8081/</c>.</summary>
    public Uri Address { get; }

    /// <summary>Base URL without a trailing slash, for messages and listings.</summary>
    public string AddressText { get; }

    /// <summary>Whether the last refresh (and no failed connect since) says requests may go here.</summary>
    public bool IsLive
    {
        get => _isLive;
        internal set => _isLive = value;
    }

    /// <summary>Requests forwarded here whose responses are not yet fully copied back.</summary>
    public int Outstanding => Volatile.Read(ref _outstanding);

    /// <summary>
    /// Unix ms at which a forward failed to connect; 0 when not suspected. While set, only evidence newer than
    /// this (a membership answer asked later) makes the silo live again. Touched under the directory's lock.
    /// </summary>
    internal long SuspectedAtMs { get; set; }

    /// <summary>
    /// Set when a silo failed to answer a forward in time and a health check. While set, the silo gets no new request
    /// whatever membership says (a frozen silo stays Active until Orleans' probes give up on it); only a health check it
    /// answers clears it. Touched under the directory's lock.
    /// </summary>
    internal bool IsUnresponsive { get; set; }

    internal void Enter() => Interlocked.Increment(ref _outstanding);

    internal void Exit() => Interlocked.Decrement(ref _outstanding);
}
