using System.Net;
using System.Net.Sockets;
using Npgsql;
using Orleans.Configuration;
using OrleansBus.Silo.Metadata;
using OrleansBus.Silo.Placement;

namespace OrleansBus.Silo.Hosting;

/// <summary>
/// Makes the silo process an Orleans silo as well as a Kestrel host (one process, one DI container). Configuration uses
/// Orleans' own keys (<c>Orleans:ClusterId</c>, <c>Orleans:Endpoints:SiloPort</c>, …) so Aspire and containers set them
/// as they would for any Orleans app; the silo's name is <c>Bus:SiloId</c>, the owner name in every chunk it writes.
/// <list type="bullet">
/// <item>Embedded default (<c>Bus:Metadata=sqlite</c>): localhost clustering, a cluster of one; nothing to install.</item>
/// <item>Cluster (<c>Bus:Metadata=postgres</c>): ADO.NET clustering in the same database and schema as the catalog
/// (the tables are ours, created by <see cref="PostgresMetadataStore.MigrateAsync"/> before Orleans starts).</item>
/// </list>
/// Address: <c>Orleans:Endpoints:AdvertisedIPAddress</c>, 127.0.0.1 by default, <c>auto</c> for the host's own address
/// (containers). Ports: <c>Orleans:Endpoints:SiloPort</c> / <c>GatewayPort</c>; 0 or unset picks a free loopback port at start (peers
/// find the address in the membership table). A fixed port lets a restarted silo supersede its old membership row at
/// once instead of waiting for the old one to be declared dead, so set them in deployments.
/// </summary>
public static class OrleansSetup
{
    public const string ServiceId = "orleansbus";
    public const string DefaultClusterId = "orleansbus";

    /// <summary>The grain storage provider that holds category settings (and later consumer-group state).</summary>
    public const string GrainStorageName = "catalog";

    /// <summary>The grain storage of consumer groups: the same table, but on SQLite without an fdatasync per ack (see <see cref="Metadata.RelaxedSqliteDataSource"/>).</summary>
    public const string GroupStorageName = "groups";

    /// <summary>Called after the storage services are registered: Orleans' hosted service then starts after recovery and
    /// the schema migration, and stops before them (hosted services stop in reverse order).</summary>
    public static WebApplicationBuilder AddBusOrleans(this WebApplicationBuilder builder)
    {
        var configuration = builder.Configuration;
        var bus = configuration.GetSection(BusOptions.Section);
        var siloName = HostIdentity.SiloId(bus[nameof(BusOptions.SiloId)] ?? new BusOptions().SiloId);
        var endpoints = configuration.GetSection("Orleans:Endpoints");
        var (siloPort, gatewayPort) = OrleansPorts(endpoints["SiloPort"], endpoints["GatewayPort"], HttpPorts(configuration["urls"]));
        var advertised = endpoints["AdvertisedIPAddress"] switch
        {
            null or "" => IPAddress.Loopback,
            var ip when string.Equals(ip, HostIdentity.Auto, StringComparison.OrdinalIgnoreCase) => HostIdentity.FirstAddress(),
            var ip => IPAddress.Parse(ip),
        };
        var clustered = string.Equals(bus[nameof(BusOptions.Metadata)], "postgres", StringComparison.Ordinal);

        builder.UseOrleans(silo =>
        {
            silo.Configure<SiloOptions>(o => o.SiloName = siloName);
            if (clustered)
            {
                silo.UseAdoNetClustering(o =>
                {
                    o.Invariant = "Npgsql";
                    o.ConnectionString = ClusteringConnectionString(bus);
                });
                silo.Configure<ClusterOptions>(o =>
                {
                    o.ClusterId = configuration["Orleans:ClusterId"] ?? DefaultClusterId;
                    o.ServiceId = configuration["Orleans:ServiceId"] ?? ServiceId;
                });
                // Loopback unless told otherwise: a local cluster must not advertise the machine's first LAN address.
                silo.Configure<EndpointOptions>(o =>
                {
                    o.AdvertisedIPAddress = advertised;
                    o.SiloPort = siloPort;
                    o.GatewayPort = gatewayPort;
                    o.SiloListeningEndpoint = new IPEndPoint(advertised.Equals(IPAddress.Loopback) ? IPAddress.Loopback : IPAddress.Any, siloPort);
                    o.GatewayListeningEndpoint = new IPEndPoint(advertised.Equals(IPAddress.Loopback) ? IPAddress.Loopback : IPAddress.Any, gatewayPort);
                });
            }
            else
            {
                silo.UseLocalhostClustering(siloPort, gatewayPort, serviceId: ServiceId, clusterId: DefaultClusterId);
            }
            silo.Configure<ClusterMembershipOptions>(o => ConfigureMembership(o, configuration.GetSection("Orleans:Membership")));
            // Grain state (category settings, consumer groups) beside the catalog: the cluster's PostgreSQL schema, or the embedded silo's
            // SQLite file; the tables are created by the catalog's migrations before Orleans starts.
            var sqlite = $"Data Source={Path.Combine(Path.GetFullPath(bus[nameof(BusOptions.DataDir)] ?? new BusOptions().DataDir), "metadata.db")};Default Timeout=30;Pooling=True";
            silo.AddAdoNetGrainStorage(GrainStorageName, o =>
            {
                o.Invariant = clustered ? "Npgsql" : "System.Data.SQLite";
                o.ConnectionString = clustered ? ClusteringConnectionString(bus) : sqlite;
            });
            silo.AddAdoNetGrainStorage(GroupStorageName, o =>
            {
                if (clustered)
                {
                    o.Invariant = "Npgsql";
                    o.ConnectionString = ClusteringConnectionString(bus);
                }
                else
                {
                    o.Invariant = "System.Data.SQLite";
                    o.DataSource = new Metadata.RelaxedSqliteDataSource(sqlite);
                }
            });
            silo.AddPlacementDirector<SiloPinnedPlacement, SiloPinnedPlacementDirector>();
        });
        return builder;
    }

    /// <summary>
    /// Failure detection in seconds rather than Orleans' defaults (~14 s for a crashed silo, ~60 s for a hung one): a
    /// probe times out after 1 s and the timeout never stretches past 2 s, so a crashed silo (connection refused) is
    /// declared dead in about 2 s and a hung one (SIGSTOP, no answer) in under 10 s. The price: a healthy silo that stalls
    /// longer than that (a long GC pause, a starved CPU) is declared dead too and must restart. docs/cluster.md says more;
    /// every field can be set under <c>Orleans:Membership</c>.
    /// </summary>
    internal static void ConfigureMembership(ClusterMembershipOptions options, IConfiguration section)
    {
        options.ProbeTimeout = TimeSpan.FromSeconds(1);
        options.MaxProbeTimeout = TimeSpan.FromSeconds(2);
        options.TableRefreshTimeout = TimeSpan.FromSeconds(5);
        options.IAmAliveTablePublishTimeout = TimeSpan.FromSeconds(10);
        section.Bind(options);
    }

    /// <summary>The catalog's connection string with the catalog's schema as the only search path, so Orleans' unqualified
    /// table names resolve to this cluster's tables.</summary>
    internal static string ClusteringConnectionString(IConfiguration bus)
    {
        var schema = bus[nameof(BusOptions.PostgresSchema)] ?? new BusOptions().PostgresSchema;
        var connectionString = bus[nameof(BusOptions.PostgresConnectionString)]
            ?? throw new InvalidOperationException("Bus:PostgresConnectionString is required when Bus:Metadata is postgres.");
        return new NpgsqlConnectionStringBuilder(connectionString) { SearchPath = PostgresMetadataStore.QuoteIdentifier(schema) }.ConnectionString;
    }

    /// <summary>
    /// The configured Orleans ports, or free ones. Free ones are picked while every earlier pick is still held, and never
    /// a configured one or one of <paramref name="httpPorts"/>: Kestrel binds those only later, so the kernel may hand one of them out
    /// again (CI saw a silo's Orleans port equal to its own HTTP port, and the silo failed to start).
    /// </summary>
    internal static (int SiloPort, int GatewayPort) OrleansPorts(string? siloPort, string? gatewayPort, IReadOnlyCollection<int> httpPorts)
    {
        var held = new List<TcpListener>();
        var avoid = new HashSet<int>(httpPorts);
        if (Configured(siloPort) is { } fixedSilo)
            avoid.Add(fixedSilo);
        if (Configured(gatewayPort) is { } fixedGateway)
            avoid.Add(fixedGateway);
        try
        {
            var silo = Configured(siloPort) ?? Pick();
            var gateway = Configured(gatewayPort) ?? Pick();
            return (silo, gateway);
        }
        finally
        {
            foreach (var listener in held)
                listener.Stop();
        }

        int Pick()
        {
            for (var attempt = 0; ; attempt++)
            {
                var listener = new TcpListener(IPAddress.Loopback, 0);
                listener.Start();
                held.Add(listener); // held until both are chosen: the kernel cannot hand it out twice meanwhile
                var port = ((IPEndPoint)listener.LocalEndpoint).Port;
                if (!avoid.Contains(port) || attempt >= 100)
                    return port;
            }
        }
    }

    private static int? Configured(string? text) => int.TryParse(text, out var port) && port > 0 ? port : null;

    /// <summary>The ports of the HTTP addresses the silo will listen on (<c>--urls</c>, <c>ASPNETCORE_URLS</c>).</summary>
    internal static IReadOnlyCollection<int> HttpPorts(string? urls)
    {
        var ports = new HashSet<int>();
        foreach (var url in (urls ?? "").Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            // "http://+:8080" and "http://*:8080" are not URIs; the port is what follows the last colon of the authority.
            var authority = url.Contains("://", StringComparison.Ordinal) ? url[(url.IndexOf("://", StringComparison.Ordinal) + 3)..].Split('/')[0] : url;
            if (int.TryParse(authority[(authority.LastIndexOf(':') + 1)..], out var port))
                ports.Add(port);
        }
        return ports;
    }
}
