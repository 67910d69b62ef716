using System.Diagnostics;
using Microsoft.Extensions.Options;
using OrleansBus.Silo.Hosting;

namespace OrleansBus.Silo.Cluster;

/// <summary>A silo as this silo sees it: its name (the owner part of chunk names), where its HTTP API is, its Orleans status.</summary>
public sealed record MemberView(string SiloId, string? Address, long Epoch, SiloStatus Status, bool Self)
{
    /// <summary>Active in Orleans membership and its HTTP address known: peers may replicate to it and read from it.</summary>
    public bool IsLive => Status == SiloStatus.Active && Address is not null;
}

/// <summary>A live peer: where to send its replicas and reads.</summary>
public sealed record PeerSilo(string SiloId, string Address);

/// <summary>
/// This silo's view of the cluster, derived from Orleans membership (<see cref="IClusterMembershipService"/>): who is
/// Active, who was declared dead, and each member's HTTP address (learned from its pinned
/// <see cref="Contracts.Grains.ISiloInfoGrain"/> by <see cref="MembershipWatcher"/>). Orleans decides liveness (probes,
/// votes, the membership table); this class only answers questions about the last snapshot it was given. The epoch of a
/// silo is its Orleans generation: a restart always gets a larger one. Written by <see cref="MembershipWatcher"/> only;
/// read from any thread (the view is replaced whole).
/// </summary>
public sealed class Membership
{
    private volatile IReadOnlyList<MemberView> _members = [];
    private readonly Dictionary<string, long> _goneSince = new(StringComparer.Ordinal);
    private readonly Lock _goneLock = new();
    // Peers that refused a connection lately (Stopwatch timestamps): gone now, though membership still says Active.
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, long> _refusedAt = new(StringComparer.Ordinal);

    /// <summary>How long a peer that refused a connection is skipped as a replica target unless it answers again first.</summary>
    public static readonly TimeSpan RefusedFor = TimeSpan.FromSeconds(5);

    public Membership(IOptions<BusOptions> options, IConfiguration configuration)
    {
        SiloId = options.Value.SiloId;
        Address = ResolveAddress(options.Value.AdvertiseUrl, configuration);
    }

    public string SiloId { get; }
    public string Address { get; }

    /// <summary>This start's Orleans generation (0 until the silo has joined the cluster).</summary>
    public long Epoch { get; private set; }

    /// <summary>This silo is an Active member: until then nobody is judged dead from an incomplete view.</summary>
    public bool Joined { get; private set; }

    /// <summary>Every member of the last snapshot (dead ones too, until Orleans removes their rows), this silo included.</summary>
    public IReadOnlyList<MemberView> Members => _members;

    internal void Update(IReadOnlyList<MemberView> members, long epoch)
    {
        Epoch = epoch;
        _members = members;
        Joined = members.Any(m => m.Self && m.Status == SiloStatus.Active);
        var now = Stopwatch.GetTimestamp();
        lock (_goneLock)
        {
            foreach (var member in members)
            {
                if (IsUp(member.SiloId, members))
                    _goneSince.Remove(member.SiloId);
                else
                    _goneSince.TryAdd(member.SiloId, now);
            }
        }
    }

    public bool IsLive(string siloId)
    {
        if (siloId == SiloId)
            return true;
        foreach (var member in _members)
        {
            if (member.SiloId == siloId && member.IsLive)
                return true;
        }
        return false;
    }

    /// <summary>
    /// True when Orleans has declared every start of <paramref name="siloId"/> dead (or never saw it) and this silo has
    /// known that for at least <paramref name="after"/>. Never true before this silo has joined, nor for this silo.
    /// A member still Joining, Active or ShuttingDown is not gone: a stopping owner seals its own chunks before it leaves.
    /// </summary>
    public bool IsGoneFor(string siloId, TimeSpan after)
    {
        if (siloId == SiloId || !Joined)
            return false;
        var members = _members;
        if (IsUp(siloId, members))
            return false;
        long since;
        lock (_goneLock)
        {
            if (!_goneSince.TryGetValue(siloId, out since))
                _goneSince[siloId] = since = Stopwatch.GetTimestamp(); // never seen: gone from now on
        }
        return Stopwatch.GetElapsedTime(since) >= after;
    }

    /// <summary>
    /// A peer refused a connection: its process is gone (a frozen one still accepts), though Orleans needs seconds to
    /// declare it dead. <see cref="LivePeers"/> leaves it out for <see cref="RefusedFor"/>, so its chunks get another
    /// replica at once and no new chunk picks it.
    /// </summary>
    public void ReportRefused(string siloId) => _refusedAt[siloId] = Stopwatch.GetTimestamp();

    /// <summary>The peer answered: it counts as live again as far as membership says so.</summary>
    public void ReportAnswered(string siloId) => _refusedAt.TryRemove(siloId, out _);

    private bool RecentlyRefused(string siloId) =>
        _refusedAt.TryGetValue(siloId, out var at) && Stopwatch.GetElapsedTime(at) < RefusedFor;

    /// <summary>Active peers with an address, less those that refused a connection within <see cref="RefusedFor"/>.</summary>
    public IReadOnlyList<PeerSilo> LivePeers()
    {
        var peers = new List<PeerSilo>();
        foreach (var member in _members)
        {
            if (!member.Self && member.IsLive && !RecentlyRefused(member.SiloId) && !peers.Exists(p => p.SiloId == member.SiloId))
                peers.Add(new PeerSilo(member.SiloId, member.Address!));
        }
        return peers;
    }

    public string? AddressOf(string siloId)
    {
        if (siloId == SiloId)
            return Address;
        foreach (var member in _members)
        {
            if (member.SiloId == siloId && member.IsLive)
                return member.Address;
        }
        return null;
    }

    private static bool IsUp(string siloId, IReadOnlyList<MemberView> members)
    {
        foreach (var member in members)
        {
            if (member.SiloId == siloId && member.Status is SiloStatus.Created or SiloStatus.Joining or SiloStatus.Active or SiloStatus.ShuttingDown or SiloStatus.Stopping)
                return true;
        }
        return false;
    }

    /// <summary>
    /// Bus:AdvertiseUrl, else the first listen URL with a wildcard host or <c>localhost</c> (what Aspire gives each replica)
    /// read as 127.0.0.1, so peers never try ::1 first; <c>auto</c>: the first listen URL with this host's own address
    /// (containers, see <see cref="HostIdentity"/>).
    /// </summary>
    internal static string ResolveAddress(string? advertiseUrl, IConfiguration configuration)
    {
        var auto = string.Equals(advertiseUrl, HostIdentity.Auto, StringComparison.OrdinalIgnoreCase);
        if (!string.IsNullOrWhiteSpace(advertiseUrl) && !auto)
            return advertiseUrl.TrimEnd('/');
        var urls = configuration["urls"];
        if (string.IsNullOrWhiteSpace(urls))
            urls = configuration["ASPNETCORE_URLS"];
        if (string.IsNullOrWhiteSpace(urls))
            urls = SiloSetup.DefaultUrl;
        var first = urls.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)[0];
        var host = auto ? HostIdentity.FirstAddress().ToString() : "127.0.0.1";
        foreach (var wildcard in (string[])["://*:", "://+:", "://0.0.0.0:", "://[::]:", "://localhost:", "://127.0.0.1:"])
        {
            if (auto || wildcard is not "://127.0.0.1:")
                first = first.Replace(wildcard, $"://{host}:", StringComparison.Ordinal);
        }
        return first.TrimEnd('/');
    }
}
