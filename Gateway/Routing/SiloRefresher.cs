using Microsoft.Extensions.Options;
using OrleansBus.Contracts.Grains;
using OrleansBus.Gateway.Hosting;

namespace OrleansBus.Gateway.Routing;

/// <summary>
/// Keeps <see cref="SiloDirectory"/> current, once at start and then every <c>Gateway:RefreshInterval</c>.
/// Static mode probes each listed URL's <c>/health/ready</c>. Cluster mode asks the cluster (Orleans membership, through
/// <see cref="IClusterDirectoryGrain"/> on whichever silo the Orleans client reaches) for the Active silos and their
/// HTTP addresses. When the cluster cannot answer within <c>Gateway:DeadAfter</c> (not connected yet, or every silo
/// unreachable) the gateway does not go blind and does not trust a stale list either: it probes the last known silos
/// directly and routes to the ones that answer. Once the cluster answers again it is the source of truth. One refresh at a time (a single loop), so the directory never sees two writers.
/// </summary>
internal sealed class SiloRefresher(
    SiloDirectory directory, HealthProbe probe, ClusterConnection cluster, IOptions<GatewayOptions> options, TimeProvider time,
    ILogger<SiloRefresher> logger) : BackgroundService
{
    private readonly HashSet<SiloEntry> _lastKnown = new(ReferenceEqualityComparer.Instance);
    private readonly HashSet<SiloEntry> _lastLive = new(ReferenceEqualityComparer.Instance);
    private bool _membershipFailing;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var settings = options.Value;
        var clustered = !string.IsNullOrWhiteSpace(settings.PostgresConnectionString);
        if (!clustered)
            Log.StaticMode(logger, settings.SiloUrls().Count, string.Join(", ", settings.SiloUrls()));
        else
            Log.MembershipMode(logger, settings.PostgresSchema);
        using var timer = new PeriodicTimer(settings.RefreshInterval, time);
        try
        {
            do
            {
                try
                {
                    await RefreshAsync(clustered, settings, stoppingToken);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    Log.RefreshFailed(logger, e); // keep the last view; the next tick tries again
                }
            }
            while (await timer.WaitForNextTickAsync(stoppingToken));
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping.
        }
    }

    private async Task RefreshAsync(bool clustered, GatewayOptions settings, CancellationToken cancellationToken)
    {
        SiloObservation[] observations;
        if (!clustered)
        {
            var urls = settings.SiloUrls();
            var silos = new (string, Uri)[urls.Count];
            for (var i = 0; i < urls.Count; i++)
                silos[i] = (urls[i], new Uri(urls[i] + "/"));
            observations = await probe.ProbeAsync(silos, cancellationToken);
        }
        else
        {
            observations = await AskClusterAsync(settings, cancellationToken) ?? await ProbeKnownAsync(cancellationToken);
        }
        directory.Apply(observations);
        LogChanges(directory.All);
    }

    private async Task<SiloObservation[]?> AskClusterAsync(GatewayOptions settings, CancellationToken cancellationToken)
    {
        var askedAtMs = time.GetUtcNow().ToUnixTimeMilliseconds();
        SiloEndpoint[] live;
        try
        {
            var client = cluster.Client ?? throw new InvalidOperationException("not connected to the cluster yet");
            // A hung cluster must not freeze the view for Orleans' 30 s response timeout; fall back sooner.
            live = await client.GetGrain<IClusterDirectoryGrain>(0).GetLiveSilosAsync().WaitAsync(settings.DeadAfter, cancellationToken);
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            if (!_membershipFailing)
                Log.MembershipUnreadable(logger, e.Message, directory.All.Count);
            _membershipFailing = true;
            return null;
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
        return [.. observations];
    }

    private Task<SiloObservation[]> ProbeKnownAsync(CancellationToken cancellationToken)
    {
        var known = directory.All;
        var silos = new (string, Uri)[known.Count];
        for (var i = 0; i < known.Count; i++)
            silos[i] = (known[i].Id, known[i].Address);
        return probe.ProbeAsync(silos, cancellationToken);
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
