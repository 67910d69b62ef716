using Microsoft.Extensions.Options;
using Npgsql;
using OrleansBus.Gateway.Hosting;

namespace OrleansBus.Gateway.Routing;

/// <summary>
/// Keeps <see cref="SiloDirectory"/> current, once at start and then every <c>Gateway:RefreshInterval</c>.
/// Static mode probes each listed URL's <c>/health/ready</c>. Membership mode reads the silos' table: live means
/// state <c>live</c> and a heartbeat within <c>Gateway:DeadAfter</c>.
/// When the table cannot be read (database down, or SQLSTATE 42P01 because no silo has created it yet) the
/// gateway does not go blind and does not trust stale rows either: it probes the last known silos directly and
/// routes to the ones that answer. A database outage then costs no availability as long as the silos run, and a
/// silo that dies meanwhile stops getting traffic within one refresh. Once the table reads again it is the
/// source of truth. One refresh at a time (a single loop), so the directory never sees two writers.
/// </summary>
internal sealed partial class SiloRefresher(
    SiloDirectory directory, HealthProbe probe, IOptions<GatewayOptions> options, TimeProvider time, ILogger<SiloRefresher> logger) : BackgroundService
{
    private readonly HashSet<SiloEntry> _lastKnown = new(ReferenceEqualityComparer.Instance);
    private readonly HashSet<SiloEntry> _lastLive = new(ReferenceEqualityComparer.Instance);
    private bool _membershipFailing;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var settings = options.Value;
        await using var table = string.IsNullOrWhiteSpace(settings.PostgresConnectionString)
            ? null
            : new MembershipTable(settings.PostgresConnectionString, settings.PostgresSchema);
        if (table is null)
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
                    await RefreshAsync(table, settings, stoppingToken);
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

    private async Task RefreshAsync(MembershipTable? table, GatewayOptions settings, CancellationToken cancellationToken)
    {
        SiloObservation[] observations;
        if (table is null)
        {
            var urls = settings.SiloUrls();
            var silos = new (string, Uri)[urls.Count];
            for (var i = 0; i < urls.Count; i++)
                silos[i] = (urls[i], new Uri(urls[i] + "/"));
            observations = await probe.ProbeAsync(silos, cancellationToken);
        }
        else
        {
            observations = await ReadMembershipAsync(table, settings, cancellationToken) ?? await ProbeKnownAsync(cancellationToken);
        }
        directory.Apply(observations);
        LogChanges(directory.All);
    }

    private async Task<SiloObservation[]?> ReadMembershipAsync(MembershipTable table, GatewayOptions settings, CancellationToken cancellationToken)
    {
        List<MembershipRow> rows;
        using (var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
        {
            // A hung database must not freeze the view for Npgsql's 15 s connect timeout; fall back sooner.
            timeout.CancelAfter(settings.DeadAfter);
            try
            {
                rows = await table.ReadAsync(timeout.Token);
            }
            catch (Exception e) when (e is NpgsqlException || (e is OperationCanceledException && !cancellationToken.IsCancellationRequested))
            {
                if (!_membershipFailing)
                {
                    var missing = e is PostgresException { SqlState: PostgresErrorCodes.UndefinedTable };
                    Log.MembershipUnreadable(logger, settings.PostgresSchema, missing ? "the table does not exist yet" : e.Message, directory.All.Count);
                }
                _membershipFailing = true;
                return null;
            }
        }
        if (_membershipFailing)
            Log.MembershipReadable(logger, rows.Count);
        _membershipFailing = false;
        var nowMs = time.GetUtcNow().ToUnixTimeMilliseconds();
        var deadBeforeMs = nowMs - (long)settings.DeadAfter.TotalMilliseconds;
        var observations = new List<SiloObservation>(rows.Count);
        foreach (var row in rows)
        {
            if (!Uri.TryCreate(row.Address.TrimEnd('/') + "/", UriKind.Absolute, out var address))
            {
                Log.BadAddress(logger, row.SiloId, row.Address);
                continue;
            }
            var live = row.State == "live" && row.HeartbeatAtMs >= deadBeforeMs;
            observations.Add(new SiloObservation(row.SiloId, address, live, row.HeartbeatAtMs));
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
