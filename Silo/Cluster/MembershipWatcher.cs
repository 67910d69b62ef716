using System.Collections.Concurrent;
using OrleansBus.Contracts.Grains;

namespace OrleansBus.Silo.Cluster;

/// <summary>
/// Feeds <see cref="Membership"/> from Orleans: every membership snapshot Orleans publishes (a silo joined, was declared
/// dead, left), plus a re-check every <see cref="RetryInterval"/> while some Active member's HTTP address is still
/// unknown. Addresses are asked of each member's pinned <see cref="ISiloInfoGrain"/> once per start (Orleans silo
/// address, which includes the generation) and cached. Registered right after Orleans, so it starts once the silo has
/// joined, before recovery, and stops after the store has closed, before Orleans leaves.
/// </summary>
public sealed partial class MembershipWatcher(
    Membership membership, IClusterMembershipService orleans, ILocalSiloDetails local, IGrainFactory grains,
    ILogger<MembershipWatcher> logger) : BackgroundService
{
    private static readonly TimeSpan RetryInterval = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan AskTimeout = TimeSpan.FromSeconds(2);
    private readonly ConcurrentDictionary<SiloAddress, string> _addresses = new();

    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        // A whole first view (addresses included, each ask bounded) before recovery and before the server takes requests.
        _addresses[local.SiloAddress] = membership.Address;
        await ApplyAsync(orleans.CurrentSnapshot, cancellationToken);
        await base.StartAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var updates = orleans.MembershipUpdates.GetAsyncEnumerator(stoppingToken);
        var next = updates.MoveNextAsync().AsTask();
        var snapshot = orleans.CurrentSnapshot;
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                var complete = await ApplyAsync(snapshot, stoppingToken);
                var retry = complete ? Task.Delay(Timeout.Infinite, stoppingToken) : Task.Delay(RetryInterval, stoppingToken);
                if (await Task.WhenAny(next, retry) == next)
                {
                    if (!await next)
                        return;
                    snapshot = updates.Current;
                    next = updates.MoveNextAsync().AsTask();
                }
                else
                {
                    snapshot = orleans.CurrentSnapshot;
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        finally
        {
            await updates.DisposeAsync();
        }
    }

    /// <summary>Learns the addresses of Active members, then publishes the snapshot; false while one is still unknown.</summary>
    private async Task<bool> ApplyAsync(ClusterMembershipSnapshot snapshot, CancellationToken stoppingToken)
    {
        var complete = true;
        foreach (var (address, member) in snapshot.Members)
        {
            if (member.Status == SiloStatus.Active && !_addresses.ContainsKey(address))
            {
                if (await AskAsync(member, stoppingToken) is { } endpoint)
                    _addresses[address] = endpoint;
                else
                    complete = false;
            }
            else if (member.Status == SiloStatus.Dead)
            {
                _addresses.TryRemove(address, out _);
            }
        }
        Publish(snapshot);
        return complete;
    }

    private void Publish(ClusterMembershipSnapshot snapshot)
    {
        var before = membership.LivePeers().Count;
        var members = new List<MemberView>(snapshot.Members.Count);
        foreach (var (address, member) in snapshot.Members)
        {
            members.Add(new MemberView(member.Name, _addresses.GetValueOrDefault(address), address.Generation, member.Status,
                Self: address.Equals(local.SiloAddress)));
        }
        membership.Update(members, local.SiloAddress.Generation);
        var after = membership.LivePeers().Count;
        if (after != before)
            Log.PeersChanged(logger, before, after);
    }

    private async Task<string?> AskAsync(ClusterMember member, CancellationToken stoppingToken)
    {
        try
        {
            var endpoint = await grains.GetGrain<ISiloInfoGrain>(GrainKeys.SiloInfo(member.Name)).GetEndpointAsync().WaitAsync(AskTimeout, stoppingToken);
            // A newer start of the same name may answer for an older row: only take an answer from this start.
            return endpoint.Epoch == member.SiloAddress.Generation ? endpoint.Address : null;
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            Log.AddressUnknown(logger, member.Name, member.SiloAddress, e.Message);
            return null;
        }
    }

    private static partial class Log
    {
        [LoggerMessage(4004, LogLevel.Information, "Live peers changed from {Before} to {After}")]
        public static partial void PeersChanged(ILogger logger, int before, int after);

        [LoggerMessage(4005, LogLevel.Debug, "HTTP address of {Silo} ({SiloAddress}) not known yet: {Reason}")]
        public static partial void AddressUnknown(ILogger logger, string silo, SiloAddress siloAddress, string reason);
    }
}
