using Microsoft.Extensions.Options;
using OrleansBus.Contracts.Grains;
using OrleansBus.Gateway.Hosting;

namespace OrleansBus.Gateway.Routing;

/// <summary>
/// Keeps <see cref="SiloDirectory"/> current from Orleans: as soon as the client connects, and then every <c>Gateway:RefreshInterval</c>,
/// it asks the cluster (Orleans membership, through <see cref="IClusterDirectoryGrain"/> on whichever silo the Orleans
/// client reaches) for the Active silos and their HTTP addresses. Orleans decides who is alive; the gateway keeps no
/// table and probes nothing. When the cluster cannot answer within <c>Gateway:DeadAfter</c> the last view stays, and
/// a forward that cannot connect takes its silo out of it at once (<see cref="SiloDirectory.MarkUnreachable"/>) until
/// Orleans names it again. One refresh at a time (a single loop), so the directory never sees two writers.
/// </summary>
internal sealed class SiloRefresher(
    SiloDirectory directory, ClusterConnection cluster, SiloClient silos, IOptions<GatewayOptions> options, TimeProvider time,
    ILogger<SiloRefresher> logger) : BackgroundService
{
    private readonly HashSet<SiloEntry> _lastKnown = new(ReferenceEqualityComparer.Instance);
    private readonly HashSet<SiloEntry> _lastLive = new(ReferenceEqualityComparer.Instance);
    private bool _membershipFailing;
    private long _refreshes;
    private const int DirectoryKeys = 16;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var settings = options.Value;
        Log.MembershipMode(logger, settings.PostgresSchema);
        using var timer = new PeriodicTimer(settings.RefreshInterval, time);
        try
        {
            // Nothing to ask before the client connects; the first look comes the moment it does, not a tick later.
            var client = await cluster.Connected.WaitAsync(stoppingToken);
            do
            {
                try
                {
                    await RefreshAsync(client, settings, stoppingToken);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    Log.RefreshFailed(logger, e); // keep the last view; the next tick tries again
                }
                await CheckUnresponsiveAsync(settings, stoppingToken);
            }
            while (await timer.WaitForNextTickAsync(stoppingToken));
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping.
        }
    }

    private async Task RefreshAsync(IClusterClient client, GatewayOptions settings, CancellationToken cancellationToken)
    {
        var askedAtMs = time.GetUtcNow().ToUnixTimeMilliseconds();
        SiloEndpoint[] live;
        try
        {
            // A hung cluster must not freeze the refresh loop for Orleans' 30 s response timeout, and one stuck gateway
            // connection must not hold every refresh: each asks through another key (the directory is a stateless worker,
            // the key only picks the Orleans gateway connection), waiting at most three refresh intervals.
            var wait = settings.RefreshInterval * 3 < settings.DeadAfter ? settings.RefreshInterval * 3 : settings.DeadAfter;
            live = await client.GetGrain<IClusterDirectoryGrain>(_refreshes++ % DirectoryKeys).GetLiveSilosAsync().WaitAsync(wait, cancellationToken);
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            if (!_membershipFailing)
                Log.MembershipUnreadable(logger, e.Message, directory.Live.Count);
            _membershipFailing = true;
            return;
        }
        if (_membershipFailing)
            Log.MembershipReadable(logger, live.Length);
        _membershipFailing = false;
        var observations = new List<SiloObservation>(live.Length);
        foreach (var silo in live)
        {
            if (!Uri.TryCreate(silo.Address.TrimEnd('/') + "/", UriKind.Absolute, out var address))
            {
                Log.BadAddress(logger, silo.SiloId, silo.Address);
                continue;
            }
            observations.Add(new SiloObservation(silo.SiloId, address, IsLive: true, askedAtMs));
        }
        directory.Apply(observations);
        LogChanges(directory.All);
    }

    /// <summary>
    /// Asks each silo a forward gave up waiting for (<see cref="SiloDirectory.MarkUnresponsive"/>) for <c>/health/live</c>,
    /// all at once and briefly: one that answers takes requests again. Membership cannot tell: a frozen silo stays Active
    /// until Orleans' probes give up on it.
    /// </summary>
    private async Task CheckUnresponsiveAsync(GatewayOptions settings, CancellationToken cancellationToken)
    {
        var checks = new List<Task>();
        foreach (var entry in directory.All)
        {
            if (entry.IsUnresponsive)
                checks.Add(CheckAsync(entry));
        }
        await Task.WhenAll(checks);

        async Task CheckAsync(SiloEntry entry)
        {
            var within = settings.RefreshInterval < settings.ConnectTimeout ? settings.RefreshInterval : settings.ConnectTimeout;
            if (!await silos.AnswersHealthCheckAsync(entry, within, cancellationToken))
                return; // still not answering
            directory.MarkResponsive(entry);
            Log.SiloAnswersAgain(logger, entry.Id, entry.AddressText);
        }
    }

    // Logs only transitions (and silos seen for the first time), not every refresh.
    private void LogChanges(IReadOnlyList<SiloEntry> after)
    {
        foreach (var entry in after)
        {
            var wasKnown = _lastKnown.Contains(entry);
            var wasLive = _lastLive.Contains(entry);
            if (entry.IsLive && !wasLive)
                Log.SiloLive(logger, entry.Id, entry.AddressText);
            else if (!entry.IsLive && (wasLive || !wasKnown))
                Log.SiloNotLive(logger, entry.Id, entry.AddressText);
        }
        _lastKnown.Clear();
        _lastLive.Clear();
        foreach (var entry in after)
        {
            _lastKnown.Add(entry);
            if (entry.IsLive)
                _lastLive.Add(entry);
        }
    }
}
