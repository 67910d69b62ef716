using Microsoft.Extensions.Options;
using OrleansBus.Silo.Hosting;

namespace OrleansBus.Silo.Cluster;

/// <summary>
/// This silo's view of the cluster: its own id, address and epoch, and the last membership table it read. Live means
/// "heartbeat within <see cref="BusOptions.DeadAfter"/>" by this silo's clock (heartbeats are Unix ms written by each
/// silo's own clock, so clocks must be roughly in step, as NTP keeps them). Written by <see cref="MembershipService"/>
/// only; read from any thread (the snapshot is replaced whole).
/// </summary>
public sealed class Membership
{
    private readonly BusOptions _options;
    private readonly TimeProvider _time;
    private volatile IReadOnlyList<SiloRecord> _silos = [];

    public Membership(IOptions<BusOptions> options, IConfiguration configuration, TimeProvider time)
    {
        _options = options.Value;
        _time = time;
        Address = ResolveAddress(_options.AdvertiseUrl, configuration);
    }

    public string SiloId => _options.SiloId;
    public string Address { get; }

    /// <summary>This start's epoch (0 until joined). A restart always gets a larger one.</summary>
    public long Epoch { get; internal set; }

    public IReadOnlyList<SiloRecord> Silos => _silos;

    private long _refreshedAtMs;

    internal void Update(IReadOnlyList<SiloRecord> silos)
    {
        _silos = silos;
        Volatile.Write(ref _refreshedAtMs, NowMs);
    }

    /// <summary>
    /// The table was read within two heartbeat intervals. A stale view (the database was unreachable) says nothing about
    /// who is dead: every heartbeat in it looks old, so nobody may be declared dead from it.
    /// </summary>
    public bool IsFresh => NowMs - Volatile.Read(ref _refreshedAtMs) <= 2 * (long)_options.HeartbeatInterval.TotalMilliseconds + 1000;

    private long NowMs => _time.GetUtcNow().ToUnixTimeMilliseconds();

    public bool IsLive(string siloId)
    {
        if (siloId == SiloId)
            return true;
        var now = NowMs;
        foreach (var silo in _silos)
        {
            if (silo.SiloId == siloId)
                return silo.IsLive(now, (long)_options.DeadAfter.TotalMilliseconds);
        }
        return false;
    }

    /// <summary>
    /// True when the silo has sent no heartbeat for at least <paramref name="after"/> (a clean stop writes a last one, so
    /// a stopping owner gets that long to seal its own chunks). A silo this one never saw in the table counts as gone;
    /// with a stale view of the table (see <see cref="IsFresh"/>) nobody does.
    /// </summary>
    public bool IsGoneFor(string siloId, TimeSpan after)
    {
        if (siloId == SiloId || !IsFresh)
            return false;
        foreach (var silo in _silos)
        {
            if (silo.SiloId == siloId)
                return NowMs - silo.HeartbeatAtMs >= (long)after.TotalMilliseconds;
        }
        return true;
    }

    /// <summary>Live peers (not this silo), by id.</summary>
    public IReadOnlyList<SiloRecord> LivePeers()
    {
        var now = NowMs;
        var deadAfter = (long)_options.DeadAfter.TotalMilliseconds;
        var peers = new List<SiloRecord>();
        foreach (var silo in _silos)
        {
            if (silo.SiloId != SiloId && silo.IsLive(now, deadAfter))
                peers.Add(silo);
        }
        return peers;
    }

    public string? AddressOf(string siloId)
    {
        if (siloId == SiloId)
            return Address;
        foreach (var silo in _silos)
        {
            if (silo.SiloId == siloId)
                return silo.Address;
        }
        return null;
    }

    /// <summary>Bus:AdvertiseUrl, else the first listen URL with a wildcard host read as loopback.</summary>
    internal static string ResolveAddress(string? advertiseUrl, IConfiguration configuration)
    {
        if (!string.IsNullOrWhiteSpace(advertiseUrl))
            return advertiseUrl.TrimEnd('/');
        var urls = configuration["urls"];
        if (string.IsNullOrWhiteSpace(urls))
            urls = configuration["ASPNETCORE_URLS"];
        if (string.IsNullOrWhiteSpace(urls))
            urls = SiloSetup.DefaultUrl;
        var first = urls.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)[0];
        foreach (var wildcard in (string[])["://*:", "://+:", "://0.0.0.0:", "://[::]:"])
            first = first.Replace(wildcard, "://127.0.0.1:", StringComparison.Ordinal);
        return first.TrimEnd('/');
    }
}
