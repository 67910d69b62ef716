using OrleansBus.AppHost;
using OrleansBus.AppHost.Resources;

// The whole local cluster on one page, as an Aspire model: what starts, in which order, with which settings.
//
//   PostgreSQL (Orleans membership, catalog, grain state)  ┐
//   Azurite (blob archive tier)                            ┴→  silo × N (storage nodes)  →  gateway (REST edge)
//
// Everything listens on 127.0.0.1 and keeps its state under DataDir (default <repo>/.cluster), so a second run finds the
// same categories and groups: replicas take the silo names silo1..siloN back (Bus:SiloId=slot). Aspire's dashboard
// shows each process's console, logs, traces and metrics. Ctrl+C or SIGTERM stops the gateway, then the silos, then the
// rest. A bad setting, a taken port or a missing program stops it before anything starts, with one line.

if (args.Any(a => a is "--help" or "-h" or "-?"))
{
    Console.WriteLine(ClusterSettings.Help);
    return 0;
}
try
{
    var dashboard = ClusterSettings.DashboardWanted(args);
    var builder = DistributedApplication.CreateBuilder(new DistributedApplicationOptions { Args = args, DisableDashboard = !dashboard });
    var settings = ClusterSettings.Read(builder.Configuration, builder.AppHostDirectory);
    settings.ThrowIfPortsTaken(builder.Configuration);
    LocalPrograms.ThrowIfNoPostgresUser();
    var repoRoot = Path.GetFullPath(Path.Combine(builder.AppHostDirectory, ".."));
    var postgresBin = LocalPrograms.PostgresBin();
    var azuriteExecutable = LocalPrograms.Azurite(repoRoot);
    Directory.CreateDirectory(settings.DataDir);

    var postgres = builder.AddLocalPostgres("postgres", postgresBin, LocalPrograms.PostgresDataDir(Path.Combine(settings.DataDir, "postgres")));
    var azurite = builder.AddLocalAzurite("azurite", azuriteExecutable, Path.Combine(settings.DataDir, "azurite"));

    // ADO.NET clustering on the same database as the catalog; cluster and service id as the silos' defaults.
    var orleans = builder.AddOrleans("orleansbus")
        .WithClusterId("orleansbus")
        .WithServiceId("orleansbus")
        .WithClustering(new BusClustering(postgres));

    var silo = builder.AddProject<Projects.OrleansBus_Silo>("silo")
        .WithReference(orleans) // Orleans ports per replica, cluster ids, clustering
        .WithHttpEndpoint(name: "http")
        .WithEnvironment("Orleans__Endpoints__AdvertisedIPAddress", "127.0.0.1") // silo traffic stays on loopback
        .WithEnvironment("Bus__SiloId", "slot") // replicas claim silo1..siloN and their folders under DataDir/silos
        .WithEnvironment("Bus__DataDir", Path.Combine(settings.DataDir, "silos"))
        .WithEnvironment("Bus__ReplicationFactor", settings.ReplicationFactor.ToString(System.Globalization.CultureInfo.InvariantCulture))
        .WithEnvironment("Bus__Archive__Kind", "blob")
        .WithEnvironment("Bus__Archive__Blob__ConnectionString", azurite.Resource.ConnectionStringExpression)
        .WithEnvironment("Bus__Archive__Blob__Container", "chunks")
        .WithLocalProcessDefaults(dashboard)
        .WithHttpHealthCheck("/health/ready")
        .WaitFor(postgres)
        .WaitFor(azurite)
        .WithReplicas(settings.Silos);

    var gateway = builder.AddProject<Projects.OrleansBus_Gateway>("gateway")
        .WithReference(orleans.AsClient())
        .WithHttpEndpoint(name: "http", port: settings.GatewayPort, isProxied: false) // the port users are told, bound by the gateway itself
        .WithLocalProcessDefaults(dashboard)
        .WithHttpHealthCheck("/health/ready")
        .WaitFor(silo);

    builder.StopFirstOnShutdown(gateway.Resource, silo.Resource);
    builder.PrintEndpointsWhenReady(gateway, silo, postgres, dashboard);
    builder.Build().Run();
    return 0;
}
catch (StartupException e)
{
    Console.Error.WriteLine($"apphost: {e.Message}");
    return 2;
}
