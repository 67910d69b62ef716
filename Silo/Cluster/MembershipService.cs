using Microsoft.Extensions.Options;
using OrleansBus.Silo.Hosting;
using OrleansBus.Silo.Metadata;

namespace OrleansBus.Silo.Cluster;

/// <summary>
/// Joins the membership table at start (a new epoch), heartbeats every <see cref="BusOptions.HeartbeatInterval"/> and
/// re-reads the table each time, and marks the silo as left on a clean stop so peers and the gateway stop using it
/// at once. Registered after <see cref="StorageService"/> (the store has migrated the schema), so it stops first.
/// A heartbeat the database refuses because a newer start took this silo id stops the host: two processes must
/// never write chunks under one owner name.
/// </summary>
public sealed partial class MembershipService(
    Membership membership, IMetadataStore metadata, IOptions<BusOptions> options, TimeProvider time,
    IHostApplicationLifetime lifetime, ILogger<MembershipService> logger) : BackgroundService
{
    private long NowMs => time.GetUtcNow().ToUnixTimeMilliseconds();

    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        membership.Epoch = await metadata.Cluster.JoinAsync(membership.SiloId, membership.Address, NowMs, cancellationToken);
        membership.Update(await metadata.Cluster.ListSilosAsync(cancellationToken));
        Log.Joined(logger, membership.SiloId, membership.Epoch, membership.Address, membership.Silos.Count);
        await base.StartAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.HeartbeatInterval, time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
                await BeatAsync(stoppingToken);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    private async Task BeatAsync(CancellationToken stoppingToken)
    {
        try
        {
            if (!await metadata.Cluster.HeartbeatAsync(membership.SiloId, membership.Epoch, NowMs, stoppingToken))
            {
                Log.Superseded(logger, membership.SiloId, membership.Epoch);
                lifetime.StopApplication();
                return;
            }
            var before = membership.LivePeers().Count;
            membership.Update(await metadata.Cluster.ListSilosAsync(stoppingToken));
            var after = membership.LivePeers().Count;
            if (after != before)
                Log.PeersChanged(logger, before, after);
        }
        catch (MetadataStoreException e)
        {
            // Keep the last view; peers judge us by the heartbeats they see, and the next tick tries again.
            Log.HeartbeatFailed(logger, e);
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        try
        {
            await metadata.Cluster.LeaveAsync(membership.SiloId, membership.Epoch, NowMs, cancellationToken);
        }
        catch (MetadataStoreException e)
        {
            Log.HeartbeatFailed(logger, e); // peers see the heartbeats stop and count us dead after DeadAfter
        }
    }

    private static partial class Log
    {
        [LoggerMessage(4001, LogLevel.Information, "Silo {SiloId} joined with epoch {Epoch} at {Address}; {Known} silos known")]
        public static partial void Joined(ILogger logger, string siloId, long epoch, string address, int known);

        [LoggerMessage(4002, LogLevel.Critical, "Silo {SiloId} epoch {Epoch} was superseded by a newer start with the same id; stopping")]
        public static partial void Superseded(ILogger logger, string siloId, long epoch);

        [LoggerMessage(4003, LogLevel.Warning, "Heartbeat or membership read failed; keeping the last view")]
        public static partial void HeartbeatFailed(ILogger logger, Exception exception);

        [LoggerMessage(4004, LogLevel.Information, "Live peers changed from {Before} to {After}")]
        public static partial void PeersChanged(ILogger logger, int before, int after);
    }
}
