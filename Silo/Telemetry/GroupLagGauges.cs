using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.Options;
using OrleansBus.Silo.Groups;
using OrleansBus.Silo.Hosting;
using OrleansBus.Silo.Storage;

namespace OrleansBus.Silo.Telemetry;

/// <summary>
/// Consumer-group lag as gauges, per category and group: messages and bytes behind (<c>orleansbus.group.lag</c>,
/// <c>orleansbus.group.lag_bytes</c>) and the age of the oldest unacknowledged message
/// (<c>orleansbus.group.oldest_unacked_age</c>). Each group is reported by exactly one silo, the one hosting its grain:
/// the grain registers here when it activates. Every <see cref="BusOptions.GroupLagInterval"/> this silo measures each
/// registered group as <c>GET …/groups/{g}</c> would, but with the sizes it knows of other silos' open chunks instead of
/// pulling them to their ends (which would copy every open chunk here every few seconds), and the gauges report the last
/// measurement (a collection never waits for a database or a peer). The measuring call keeps the grain busy, so a group stays reported while its silo
/// runs, idle or not; after a restart, from its first use.
/// </summary>
public sealed partial class GroupLagGauges(LogStore store, ConsumerGroups groups, IOptions<BusOptions> options, ILogger<GroupLagGauges> logger)
    : BackgroundService
{
    private static readonly ConcurrentDictionary<GroupLagGauges, byte> Running = new();
    private readonly ConcurrentDictionary<(string Category, string Group), byte> _groups = new();
    private readonly ConcurrentDictionary<(string Category, string Group), GroupStatus> _last = new();

    static GroupLagGauges()
    {
        BusTelemetry.Meter.CreateObservableGauge("orleansbus.group.lag", () => Observe(s => s.LagMessages), "{message}",
            "Messages a consumer group has not acknowledged yet, by category and group.");
        BusTelemetry.Meter.CreateObservableGauge("orleansbus.group.lag_bytes", () => Observe(s => s.LagBytes), "By",
            "Bytes a consumer group has not acknowledged yet, by category and group.");
        BusTelemetry.Meter.CreateObservableGauge("orleansbus.group.oldest_unacked_age", () => Observe(s => (s.OldestUnackedAgeMs ?? 0) / 1000.0), "s",
            "Age of the oldest message a consumer group has not acknowledged (0 when it is caught up), by category and group.");
    }

    /// <summary>The group's grain activated on this silo: measure it from now on.</summary>
    public void Register(string category, string group) => _groups.TryAdd((category, group), 0);

    /// <summary>The group's grain left this silo: another silo reports it once the grain activates there.</summary>
    public void Unregister(string category, string group)
    {
        _groups.TryRemove((category, group), out _);
        _last.TryRemove((category, group), out _);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var interval = options.Value.GroupLagInterval;
        if (interval <= TimeSpan.Zero)
            return;
        Running.TryAdd(this, 0);
        try
        {
            using var timer = new PeriodicTimer(interval);
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                foreach (var key in _groups.Keys)
                    await MeasureAsync(key, stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        finally
        {
            Running.TryRemove(this, out _);
        }
    }

    private async Task MeasureAsync((string Category, string Group) key, CancellationToken cancellationToken)
    {
        try
        {
            if (!store.IsReady || await store.FindOrOpenAsync(key.Category, cancellationToken) is not { } log)
                return;
            if (await groups.StatusAsync(log, key.Group, catchUp: false, cancellationToken) is { } status && _groups.ContainsKey(key))
                _last[key] = status;
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            // Metadata or a peer unreachable: keep the last measurement, try again next tick.
            LogMeasureFailed(logger, key.Category, key.Group, e.Message);
        }
    }

    private static IEnumerable<Measurement<double>> Observe(Func<GroupStatus, double> value)
    {
        foreach (var gauges in Running.Keys)
        {
            foreach (var ((category, group), status) in gauges._last)
                yield return new Measurement<double>(value(status), new("category", category), new("group", group));
        }
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Could not measure the lag of group {Group} of {Category}: {Reason}")]
    private static partial void LogMeasureFailed(ILogger logger, string category, string group, string reason);
}
