using Microsoft.Extensions.Options;
using OrleansBus.Contracts;
using OrleansBus.Silo.Api;
using OrleansBus.Silo.Archive;
using OrleansBus.Silo.Metadata;
using OrleansBus.Silo.Storage;

namespace OrleansBus.Silo.Hosting;

/// <summary>Service registration for a silo: options (validated at start), metadata, storage, Kestrel limits.</summary>
public static class SiloSetup
{
    public const string DefaultUrl = "http://127.0.0.1:8080";

    public static WebApplicationBuilder AddBusSilo(this WebApplicationBuilder builder)
    {
        // The embedded default listens on loopback:8080 unless --urls / ASPNETCORE_URLS say otherwise.
        if (string.IsNullOrEmpty(builder.Configuration["urls"]) && string.IsNullOrEmpty(builder.Configuration["ASPNETCORE_URLS"]))
            builder.WebHost.UseUrls(DefaultUrl);
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            // The produce endpoint enforces MaxRequestBytes itself (with a problem+json body); Kestrel's own cap would answer first without one.
            kestrel.Limits.MaxRequestBodySize = null;
            // A produce body stays in Kestrel's buffers until it is written (ProduceBatch), so the transport
            // must keep reading past the default 1 MiB pause threshold, up to one whole request.
            var maxRequestBytes = builder.Configuration.GetValue<long?>($"{BusOptions.Section}:{nameof(BusOptions.MaxRequestBytes)}") ?? BusLimits.DefaultMaxRequestBytes;
            kestrel.Limits.MaxRequestBufferSize = maxRequestBytes + 1024 * 1024;
            kestrel.AddServerHeader = false;
        });
        builder.Services.AddOptions<BusOptions>()
            .Bind(builder.Configuration.GetSection(BusOptions.Section))
            .PostConfigure(o => o.SiloId = HostIdentity.SiloId(o.SiloId))
            .ValidateDataAnnotations()
            .Validate(o => o.MaxChunkAge > TimeSpan.Zero, "Bus:MaxChunkAge must be positive.")
            .Validate(o => o.SealCheckInterval > TimeSpan.Zero, "Bus:SealCheckInterval must be positive.")
            .Validate(o => o.LocalRetention >= TimeSpan.Zero, "Bus:LocalRetention must not be negative.")
            .Validate(o => o.ArchiveCheckInterval >= TimeSpan.Zero, "Bus:ArchiveCheckInterval must not be negative (0 turns the check off).")
            .Validate(o => o.RetentionCheckInterval > TimeSpan.Zero, "Bus:RetentionCheckInterval must be positive.")
            .Validate(o => o.GroupLagInterval >= TimeSpan.Zero, "Bus:GroupLagInterval must not be negative (0 turns the lag metrics off).")
            .Validate(o => o.MaxMessageBytes <= o.MaxRequestBytes, "Bus:MaxMessageBytes must not exceed Bus:MaxRequestBytes.")
            .Validate(o => o.Metadata != "postgres" || !string.IsNullOrWhiteSpace(o.PostgresConnectionString),
                "Bus:PostgresConnectionString is required when Bus:Metadata is postgres.")
            .Validate(o => o.FenceWindow > TimeSpan.Zero, "Bus:FenceWindow must be positive.")
            .Validate(o => o.OwnerDeadAfter >= o.FenceWindow, "Bus:OwnerDeadAfter must not be shorter than Bus:FenceWindow.")
            .Validate(o => o.ReplicationTimeout > TimeSpan.Zero, "Bus:ReplicationTimeout must be positive.")
            .Validate(o => o.AdvertiseUrl is null || o.AdvertiseUrl == HostIdentity.Auto
                    || Uri.TryCreate(o.AdvertiseUrl, UriKind.Absolute, out var u) && u.Scheme is "http" or "https",
                "Bus:AdvertiseUrl must be an absolute http(s) URL, or auto.")
            .ValidateOnStart();
        builder.Services.AddOpenApi(); // the v1 document, /openapi/v1.json
        builder.Services.AddReadinessChecks(); // /health/ready: storage, Orleans membership, metadata, archive
        builder.Services.AddSingleton(TimeProvider.System);
        // The database itself: the category grains and CatalogStore use it; everything else sees CatalogStore, which
        // sends chunk rows through the category grains.
        builder.Services.AddKeyedSingleton<IMetadataStore>(CatalogStore.DatabaseKey, (sp, _) =>
        {
            var options = sp.GetRequiredService<IOptions<BusOptions>>().Value;
            if (options.Metadata == "postgres")
                return new PostgresMetadataStore(options.PostgresConnectionString!, options.PostgresSchema);
            var dataDir = Path.GetFullPath(options.DataDir);
            Directory.CreateDirectory(dataDir);
            return new SqliteMetadataStore(Path.Combine(dataDir, "metadata.db"));
        });
        builder.Services.AddSingleton<IMetadataStore>(sp => new CatalogStore(
            sp.GetRequiredKeyedService<IMetadataStore>(CatalogStore.DatabaseKey), sp.GetRequiredService<IGrainFactory>()));
        builder.Services.AddOptions<ArchiveOptions>()
            .Bind(builder.Configuration.GetSection(ArchiveOptions.Section))
            .ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<ArchiveOptions>, ArchiveOptionsValidator>();
        // The container disposes the archive (a blob archive owns an HttpClient) at shutdown.
        builder.Services.AddSingleton<IChunkArchive>(sp => ChunkArchiveFactory.Create(
            sp.GetRequiredService<IOptions<ArchiveOptions>>().Value,
            Path.GetFullPath(sp.GetRequiredService<IOptions<BusOptions>>().Value.DataDir),
            sp.GetRequiredService<ILoggerFactory>(),
            sp.GetRequiredService<TimeProvider>()));
        builder.Services.AddSingleton<LogStore>();
        builder.Services.AddSingleton<Groups.IGroupStore, Groups.GrainGroupStore>();
        builder.Services.AddSingleton<Groups.ConsumerGroups>();
        builder.Services.AddSingleton<LegacyGroupTables>();
        builder.Services.AddSingleton<Cluster.Membership>();
        builder.Services.AddSingleton<Archiver>();
        builder.Services.AddSingleton<Cluster.PeerClient>();
        builder.Services.AddSingleton<Replication.Replicator>();
        builder.Services.AddSingleton<Cluster.ClusterReads>();
        builder.Services.AddSingleton<Cluster.SiloFence>();
        builder.Services.AddSingleton<ChunkAppender>();

        // Hosted services start in this order (Kestrel last) and stop in the reverse order (Kestrel first).
        // 1. The directory lock and the schema, Orleans' tables included.
        builder.Services.AddHostedService<StoragePreparation>();
        // 2. Orleans: the silo joins the cluster.
        builder.AddBusOrleans();
        //    Groups kept in tables by the previous version move into their grains' state.
        builder.Services.AddHostedService<Groups.GroupTablesImport>();
        // 3. Membership as this silo sees it (with each member's HTTP address) and the fence: known before recovery, so
        //    chunks opened while recovering are replicated at once; stopped after the store has sealed and closed.
        builder.Services.AddHostedService<Cluster.MembershipWatcher>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<Cluster.SiloFence>());
        // 4. Recovery; on stop, sealing every active chunk while still a member.
        builder.Services.AddHostedService<StorageService>();
        builder.Services.AddHostedService<AgeSealer>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<Cluster.ClusterReads>());
        builder.Services.AddHostedService<Cluster.OwnerFailureSealer>();
        // 5. Last: started once the store is loaded, stopped first, before the chunks are sealed at shutdown (those are
        //    archived after the next start, never half-uploaded by a stopping silo).
        builder.Services.AddHostedService(sp => sp.GetRequiredService<Archiver>());
        builder.Services.AddSingleton<Grains.GroupRegistration>();
        builder.Services.AddSingleton<Telemetry.GroupLagGauges>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<Telemetry.GroupLagGauges>());
        return builder;
    }
}
