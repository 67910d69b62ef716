using System.Diagnostics;
using System.Diagnostics.Metrics;
using OrleansBus.ServiceDefaults;

namespace OrleansBus.Silo.Telemetry;

/// <summary>
/// The silo's own instruments, one <see cref="Meter"/> and one <see cref="ActivitySource"/> named
/// <see cref="ServiceDefaultsExtensions.TelemetryName"/> (exported by the service defaults: <c>/metrics</c>, OTLP). Tags
/// are the category (and group) and, for produce, the durability that was met: few distinct values per deployment.
/// Static: instruments are cheap to record when nobody listens, and the names are the contract with dashboards.
/// </summary>
internal static class BusTelemetry
{
    public static readonly Meter Meter = new(ServiceDefaultsExtensions.TelemetryName);

    public static readonly ActivitySource Activities = new(ServiceDefaultsExtensions.TelemetryName);

    public static readonly Counter<long> ProducedMessages = Meter.CreateCounter<long>(
        "orleansbus.produce.messages", "{message}", "Messages acknowledged to producers, by category and the durability met.");

    public static readonly Counter<long> ProducedBytes = Meter.CreateCounter<long>(
        "orleansbus.produce.bytes", "By", "Bytes acknowledged to producers, by category and the durability met.");

    public static readonly Histogram<double> ProduceDuration = Meter.CreateHistogram<double>(
        "orleansbus.produce.duration", "ms", "From a validated batch to its acknowledgement (write, fdatasync, replicas), by durability met.");

    public static readonly Histogram<double> FsyncDuration = Meter.CreateHistogram<double>(
        "orleansbus.fsync.duration", "ms", "One group commit's fdatasync of a chunk's data and index.");

    public static readonly Histogram<long> BatchesPerFsync = Meter.CreateHistogram<long>(
        "orleansbus.fsync.batches", "{batch}", "Produce batches one fdatasync made durable (group commit).");

    public static readonly Counter<long> Deliveries = Meter.CreateCounter<long>(
        "orleansbus.group.deliveries", "{delivery}", "Ranges leased to consumers, by category and group (redeliveries included).");

    public static readonly Counter<long> Redeliveries = Meter.CreateCounter<long>(
        "orleansbus.group.redeliveries", "{delivery}", "Ranges leased again after an expired lease or a nack, by category and group.");

    public static readonly Counter<long> ArchiveMissing = Meter.CreateCounter<long>(
        "orleansbus.archive.missing", "{chunk}", "Archived chunks found gone from the archive with no local copy left (by a read or the periodic check), by category.");

    public static readonly Counter<long> ArchiveRestored = Meter.CreateCounter<long>(
        "orleansbus.archive.restored", "{chunk}", "Archived chunks the archive had lost, uploaded again from a local copy before it was dropped, by category.");

    public static readonly Counter<long> DeadLetters = Meter.CreateCounter<long>(
        "orleansbus.group.dead_letters", "{message}", "Messages moved to <category>.dead-letter after too many deliveries, by category and group.");
}
