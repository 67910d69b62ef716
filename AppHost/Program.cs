using OrleansBus.AppHost;
using OrleansBus.AppHost.Components;
using OrleansBus.AppHost.Processes;

// The whole local cluster on one page: what starts, in which order, with which settings.
//
//   PostgreSQL (Orleans membership, catalog, groups)  →  Azurite (blob archive tier)
//   →  silo1..siloN (storage nodes, one after another)   →  gateway (REST edge)
//
// Everything listens on 127.0.0.1 and keeps its state under --data (default ./.cluster), so a second run
// finds the same categories and groups. Each child logs to <data>/logs/<name>.log, not to this console.
// Ctrl+C or SIGTERM stops everything in the reverse order and exits 0. A silo that dies on its own is reported and
// the rest keeps serving (that is what a cluster is for: try a failure by hand); PostgreSQL, Azurite or the gateway
// dying stops everything and exits 1. Only PIDs started here are ever signalled.

var options = ClusterOptions.Parse(args, out var usageError);
if (options is null)
{
    if (usageError is null)
    {
        Console.WriteLine(ClusterOptions.Usage);
        return 0;
    }
    Console.Error.WriteLine($"apphost: {usageError}");
    return 2;
}
if (Ports.FirstInUse(options) is { } busy)
{
    Console.Error.WriteLine($"apphost: {busy.Option}: port {busy.Port} (for {busy.Owner}) is already in use. Pick another with {busy.Option} P.");
    return 2;
}

var data = options.DataDir;
var logs = Path.Combine(data, "logs");
var startedAt = System.Diagnostics.Stopwatch.StartNew();
var readyTimeout = TimeSpan.FromSeconds(60); // per silo and for the gateway: GET /health/ready = 200
var stopTimeout = TimeSpan.FromSeconds(30);  // SIGTERM, then SIGKILL
const string QuietRequestLogs = "--Logging:LogLevel:Microsoft.AspNetCore=Warning"; // no line per HTTP request in the logs
using var stop = new StopRequest();
var cluster = new RunningCluster();
IClusterComponent? died = null;
var failed = false;
try
{
    var repo = RepoLayout.Find();
    DataFolder.Create(data);
    Console.WriteLine($"starting {options.Silos} silos and a gateway in {data} ({repo.Configuration} build) ...");

    // 1. PostgreSQL: initdb on the first run, then the same cluster; database "orleansbus".
    var postgres = cluster.Add(await PostgresLauncher.StartAsync(
        Path.Combine(data, "postgres"), options.PostgresPort, Path.Combine(logs, "postgres.log"), stop.Token));
    await postgres.CreateDatabaseIfMissingAsync(PostgresLauncher.Database, stop.Token);
    await postgres.ClearOrleansMembershipAsync(stop.Token);

    // 2. Azurite: blob storage for sealed chunks (container "chunks", created by the silos).
    var azurite = cluster.Add(await AzuriteLauncher.StartAsync(
        repo.Root, Path.Combine(data, "azurite"), options.AzuritePort, Path.Combine(logs, "azurite.log"), Console.Out, stop.Token));
    await Readiness.WaitForPortAsync(azurite, options.AzuritePort, TimeSpan.FromSeconds(30), stop.Token);

    // 3. Silos, one at a time: the first one creates the metadata tables, the others join it.
    var dotnetEnvironment = new Dictionary<string, string>
    {
        // Server GC sizes its heaps per core; several silos on one small machine would starve each other.
        ["DOTNET_gcServer"] = "0",
    };
    for (var i = 1; i <= options.Silos; i++)
    {
        var siloId = $"silo{i}";
        var url = $"http://127.0.0.1:{options.SiloPort + i - 1}";
        var silo = cluster.Add(ChildProcess.Start(siloId, url, RepoLayout.DotnetHost,
        [
            repo.SiloDll,
            "--urls", url,
            $"--Bus:SiloId={siloId}",
            $"--Bus:DataDir={Path.Combine(data, siloId)}",
            "--Bus:Metadata=postgres",
            $"--Bus:PostgresConnectionString={postgres.Endpoint}",
            $"--Bus:AdvertiseUrl={url}",
            $"--Bus:ReplicationFactor={options.ReplicationFactor}",
            "--Bus:Archive:Kind=blob",
            $"--Bus:Archive:Blob:ConnectionString=DefaultEndpointsProtocol=http;AccountName={AzuriteLauncher.AccountName};AccountKey={AzuriteLauncher.AccountKey};BlobEndpoint={azurite.Endpoint};",
            "--Bus:Archive:Blob:Container=chunks",
            QuietRequestLogs,
        ], Path.Combine(logs, $"{siloId}.log"), stopTimeout, dotnetEnvironment, workingDirectory: Path.GetDirectoryName(repo.SiloDll)));
        await Readiness.WaitForHealthAsync(silo, url, readyTimeout, stop.Token);
    }

    // 4. Gateway: an Orleans client of the silos' cluster (ADO.NET clustering in PostgreSQL) finds the live silos.
    var gatewayUrl = $"http://127.0.0.1:{options.GatewayPort}";
    var gateway = cluster.Add(ChildProcess.Start("gateway", gatewayUrl, RepoLayout.DotnetHost,
    [
        repo.GatewayDll,
        "--urls", gatewayUrl,
        $"--Gateway:PostgresConnectionString={postgres.Endpoint}",
        "--Gateway:PostgresSchema=public",
        QuietRequestLogs,
    ], Path.Combine(logs, "gateway.log"), stopTimeout, dotnetEnvironment, workingDirectory: Path.GetDirectoryName(repo.GatewayDll)));
    await Readiness.WaitForHealthAsync(gateway, gatewayUrl, readyTimeout, stop.Token);

    foreach (var component in cluster.Components)
    {
        Console.WriteLine($"{component.Name} {component.Endpoint} (pid {component.Pid})");
    }
    Console.WriteLine($"logs {logs}");
    Console.WriteLine($"ready: Ctrl+C stops everything (started in {startedAt.Elapsed.TotalSeconds:0.0} s)");

    died = await cluster.WaitForStopOrExitAsync(
        keepServingWithout: component => component.Name.StartsWith("silo", StringComparison.Ordinal),
        gone => Console.Error.WriteLine($"apphost: {gone.Name} (pid {gone.Pid}) exited on its own; the rest keeps serving. Its log: {gone.LogPath}"),
        stop.Token);
}
catch (StartupException ex)
{
    Console.Error.WriteLine($"apphost: {ex.Message}");
    failed = true;
}
catch (OperationCanceledException) when (stop.IsRequested)
{
    // Ctrl+C while starting: stop what is already up.
}
catch (Exception ex) when (ex is Npgsql.NpgsqlException or IOException or UnauthorizedAccessException)
{
    Console.Error.WriteLine($"apphost: {ex.GetType().Name}: {ex.Message}");
    failed = true;
}
finally
{
    if (died is not null)
    {
        Console.Error.WriteLine($"apphost: {died.Name} (pid {died.Pid}) exited on its own; stopping everything. Its log: {died.LogPath}");
    }
    else if (stop.IsRequested)
    {
        Console.WriteLine($"{stop.Signal}: stopping ...");
    }
    await cluster.StopAllAsync(Console.Out);
}
return failed || died is not null ? 1 : 0;
