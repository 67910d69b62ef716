using System.Diagnostics;
using Microsoft.Extensions.Options;
using OrleansBus.Silo.Hosting;

namespace OrleansBus.Silo.Cluster;

/// <summary>
/// Self-fencing: in a cluster, a silo may acknowledge a write only while it has recently confirmed, from the membership
/// table itself, that it is still an Active member. It reads its own row every <see cref="RefreshInterval"/> straight
/// from the table (<see cref="IMembershipTable.ReadRowAsync"/>; not Orleans' local snapshot, which keeps saying Active for this
/// silo while it learns it was declared dead — the fencing test caught acknowledgements given in that moment); an
/// acknowledgement needs a confirmation younger than <see cref="BusOptions.FenceWindow"/>.
/// Why: a silo that was paused (SIGSTOP, a long GC, a starved VM) or cut off may have been declared dead meanwhile, and a
/// replica then seals its active chunk at the replicated size. Without the fence, the resumed silo would acknowledge the
/// writes it had queued before it reads the table and learns it is dead (Orleans then stops it). The window is shorter
/// than the quickest death declaration (probes: 3 missed × 1 s), and replicas wait <see cref="BusOptions.OwnerDeadAfter"/>
/// (≥ the window) after the declaration before they seal, so nothing is acknowledged past a replica's seal.
/// The embedded single silo has nobody to be fenced from: it always may acknowledge.
/// </summary>
public sealed partial class SiloFence(
    IServiceProvider services, ILocalSiloDetails local, IOptions<BusOptions> options, ILogger<SiloFence> logger) : BackgroundService
{
    private static readonly TimeSpan RefreshInterval = TimeSpan.FromMilliseconds(500);
    private readonly bool _enabled = options.Value.Metadata == "postgres";
    private readonly long _windowTicks = (long)(options.Value.FenceWindow.TotalSeconds * Stopwatch.Frequency);
    private long _confirmedAt = long.MinValue;
    private bool _fenced;

    /// <summary>True when an acknowledgement may be given now.</summary>
    public bool MayAcknowledge => !_enabled || Stopwatch.GetTimestamp() - Volatile.Read(ref _confirmedAt) < _windowTicks;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!_enabled)
            return;
        var table = services.GetRequiredService<IMembershipTable>(); // ADO.NET clustering: the table in PostgreSQL
        using var timer = new PeriodicTimer(RefreshInterval);
        try
        {
            do
            {
                var started = Stopwatch.GetTimestamp();
                try
                {
                    var row = await table.ReadRowAsync(local.SiloAddress, stoppingToken).WaitAsync(options.Value.FenceWindow, stoppingToken);
                    if (row.TryGet(local.SiloAddress)?.Item1.Status == SiloStatus.Active)
                        Confirm(started);
                }
                catch (Exception e) when (e is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
                {
                    Log.RefreshFailed(logger, e.Message);
                }
                if (!MayAcknowledge && !_fenced)
                    Log.Fenced(logger, options.Value.FenceWindow);
                _fenced = !MayAcknowledge;
            }
            while (await timer.WaitForNextTickAsync(stoppingToken));
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    // The confirmation holds from when the read began, not when it ended: the table may have changed while it ran.
    private void Confirm(long startedAt)
    {
        if (startedAt > Volatile.Read(ref _confirmedAt))
            Volatile.Write(ref _confirmedAt, startedAt);
    }

    private static partial class Log
    {
        [LoggerMessage(4010, LogLevel.Warning, "Membership table read failed: {Reason}")]
        public static partial void RefreshFailed(ILogger logger, string reason);

        [LoggerMessage(4011, LogLevel.Warning, "Not confirmed as an active member within {Window}: acknowledging no writes until confirmed")]
        public static partial void Fenced(ILogger logger, TimeSpan window);
    }
}
