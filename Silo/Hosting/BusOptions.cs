using System.ComponentModel.DataAnnotations;
using OrleansBus.Contracts;

namespace OrleansBus.Silo.Hosting;

/// <summary>
/// Configuration section <c>Bus</c> (so <c>--Bus:DataDir=/x</c>, env <c>Bus__DataDir</c>, appsettings).
/// Validated at start: a bad value stops the host and names its key.
/// </summary>
public sealed class BusOptions
{
    public const string Section = "Bus";

    /// <summary>Folder holding chunk files, the metadata database and the lock file.</summary>
    [Required]
    public string DataDir { get; set; } = "./data";

    /// <summary>This silo's name: the owner part of every chunk it writes. Must stay stable across restarts.</summary>
    [Required, RegularExpression("^[a-z0-9][a-z0-9-]{0,62}$")]
    public string SiloId { get; set; } = "silo1";

    [Range(2, 256 * 1024 * 1024)]
    public int MaxMessageBytes { get; set; } = BusLimits.DefaultMaxMessageBytes;

    [Range(2, 1024 * 1024 * 1024)]
    public int MaxRequestBytes { get; set; } = BusLimits.DefaultMaxRequestBytes;

    [Range(1, 1024 * 1024 * 1024)]
    public int MaxReadBytes { get; set; } = BusLimits.DefaultMaxReadBytes;

    /// <summary>Default chunk size for new categories; each category may override it.</summary>
    [Range(1024L, 1L << 40)]
    public long MaxChunkBytes { get; set; } = BusLimits.DefaultMaxChunkBytes;

    /// <summary>Default chunk age for new categories; each category may override it.</summary>
    public TimeSpan MaxChunkAge { get; set; } = BusLimits.DefaultMaxChunkAge;

    /// <summary>Durability of a produce that names none, for new categories: <c>page-cache</c> or <c>fsync</c>.</summary>
    [RegularExpression("^(page-cache|fsync)$")]
    public string DefaultDurability { get; set; } = DurabilityNames.PageCache;

    /// <summary>How often the age sealer looks for chunks past their MaxChunkAge.</summary>
    public TimeSpan SealCheckInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// How long the local copy of an archived chunk is kept, counted from its seal; 0 drops it right after archiving.
    /// Default 1 hour: consumers mostly read the recent tail, so an hour of sealed chunks stays on local disk (no
    /// archive round trip for lagging readers) while disk use stays bounded by about an hour of writes.
    /// </summary>
    public TimeSpan LocalRetention { get; set; } = TimeSpan.FromHours(1);

    /// <summary>
    /// How often each silo checks that the archive still holds the chunks it archived (length per chunk, one request
    /// each); 0, the default, never checks. A chunk found missing is uploaded again from a local copy if one is left,
    /// else logged as an error and counted (<c>orleansbus.archive.missing</c>) before any reader meets it. Local copies
    /// are checked (length and SHA-256) right before they are dropped whatever this says.
    /// </summary>
    public TimeSpan ArchiveCheckInterval { get; set; } = TimeSpan.Zero;

    /// <summary>How often each category grain applies its category's retention (<c>retentionMs</c>, <c>retentionBytes</c>).</summary>
    public TimeSpan RetentionCheckInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// How often a category being deleted tries its next step again (silos still to drop it, groups, blobs, rows) until
    /// the deletion is done.
    /// </summary>
    public TimeSpan DeletionStepInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// How often the silo hosting a consumer group's grain measures the group's lag for the metrics
    /// (<c>orleansbus.group.lag</c>, <c>_bytes</c>, <c>oldest_unacked_age</c>); zero turns it off.
    /// </summary>
    public TimeSpan GroupLagInterval { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>Metadata store: <c>sqlite</c> (embedded default, <c>&lt;DataDir&gt;/metadata.db</c>) or <c>postgres</c> (a cluster).</summary>
    [RegularExpression("^(sqlite|postgres)$")]
    public string Metadata { get; set; } = "sqlite";

    /// <summary>Npgsql connection string when <see cref="Metadata"/> is <c>postgres</c>.</summary>
    public string? PostgresConnectionString { get; set; }

    /// <summary>Schema holding the tables when <see cref="Metadata"/> is <c>postgres</c> (one cluster per schema).</summary>
    [RegularExpression("^[a-z_][a-z0-9_]{0,62}$")]
    public string PostgresSchema { get; set; } = "public";

    /// <summary>Deliveries of one range before its first message goes to the dead-letter category.</summary>
    [Range(1, 1000)]
    public int MaxDeliveries { get; set; } = 5;

    /// <summary>Lease of a poll that names no lease_ms.</summary>
    public TimeSpan DefaultLease { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Batches a writer accepts ahead of the disk before producers wait (back-pressure).</summary>
    [Range(1, 65536)]
    public int WriterQueueLength { get; set; } = 1024;

    /// <summary>
    /// The base URL peers and the gateway use to reach this silo (its <see cref="Contracts.Grains.ISiloInfoGrain"/> answers it). Empty: the first
    /// <c>--urls</c> address, with a wildcard host read as 127.0.0.1. Set it in containers (the app's own host name).
    /// </summary>
    public string? AdvertiseUrl { get; set; }

    /// <summary>
    /// After Orleans declares an owner dead, its replicas wait this long before one of them seals the owner's active chunk
    /// at the replicated size. At least <see cref="FenceWindow"/>: by then the owner acknowledges nothing more.
    /// </summary>
    public TimeSpan OwnerDeadAfter { get; set; } = TimeSpan.FromSeconds(3);

    /// <summary>
    /// In a cluster, a silo acknowledges a write only if it confirmed it is an Active member within this window (see
    /// <see cref="Cluster.SiloFence"/>). Shorter than the quickest death declaration (about 3 s of missed probes).
    /// </summary>
    public TimeSpan FenceWindow { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>Copies of each active chunk, the owner's included: the owner streams to ReplicationFactor - 1 live peers.</summary>
    [Range(1, 16)]
    public int ReplicationFactor { get; set; } = 2;

    /// <summary>How long a produce with min_sync_replicas waits for its replicas before answering 504.</summary>
    public TimeSpan ReplicationTimeout { get; set; } = TimeSpan.FromSeconds(5);
}
