using System.Globalization;
using Microsoft.Extensions.Configuration;
using System.Net;
using System.Net.Sockets;

namespace OrleansBus.AppHost;

/// <summary>
/// The shape of the local cluster, from configuration (<c>dotnet run --project AppHost -- --Silos 5</c>, or env
/// <c>Silos=5</c>), checked before anything starts: a bad value, a taken port or a missing program stops the AppHost with
/// one line that says what to do.
/// </summary>
internal sealed record ClusterSettings(int Silos, int GatewayPort, int ReplicationFactor, string DataDir)
{
    public const int MaxSilos = 64;

    public const string Help = """
        Starts a local OrleansBus cluster on 127.0.0.1 under Aspire: PostgreSQL, Azurite, N silos, the gateway, the dashboard.
        Ctrl+C or SIGTERM stops everything.

        Usage: dotnet run --project AppHost [-- settings]

          --Silos N               number of silos (default 3)
          --GatewayPort P         the gateway's port on 127.0.0.1 (default 8090)
          --ReplicationFactor N   copies of each chunk, the writer's included (default 2)
          --DataDir DIR           folder for postgres/, azurite/, silos/ (default <repo>/.cluster; kept across runs)
          --Dashboard false       no dashboard and no OTLP export from the silos and the gateway (benchmarks)

        Environment: OBUS_PG_BIN (folder with initdb and postgres), OBUS_AZURITE (azurite-blob executable).
        The dashboard's ports come from AppHost/Properties/launchSettings.json (15000, OTLP 19000).
        """;

    /// <summary><c>--Dashboard false</c> (or env <c>Dashboard=false</c>); read before the builder exists, which it configures.</summary>
    public static bool DashboardWanted(string[] args)
    {
        var text = new ConfigurationBuilder().AddEnvironmentVariables().AddCommandLine(args).Build()["Dashboard"];
        if (string.IsNullOrEmpty(text))
            return true;
        return bool.TryParse(text, out var wanted) ? wanted : throw new StartupException($"--Dashboard must be true or false; got '{text}'.");
    }

    public static ClusterSettings Read(IConfiguration configuration, string appHostDirectory)
    {
        var silos = Number(configuration, "Silos", 3, 1, MaxSilos);
        var gatewayPort = Number(configuration, "GatewayPort", 8090, 1, 65535);
        var replicationFactor = Number(configuration, "ReplicationFactor", 2, 1, MaxSilos);
        var dataDir = configuration["DataDir"] is { Length: > 0 } dir
            ? Path.GetFullPath(dir)
            : Path.GetFullPath(Path.Combine(appHostDirectory, "..", ".cluster"));
        return new ClusterSettings(silos, gatewayPort, replicationFactor, dataDir);
    }

    /// <summary>Every fixed port the AppHost itself or the gateway will bind must be free now.</summary>
    public void ThrowIfPortsTaken(IConfiguration configuration)
    {
        ThrowIfTaken(GatewayPort, "--GatewayPort", "the gateway");
        // The dashboard's own URLs (set by launchSettings.json under `dotnet run`; absent under the test builder).
        foreach (var (key, what) in new[] { ("ASPNETCORE_URLS", "the dashboard"), ("ASPIRE_DASHBOARD_OTLP_ENDPOINT_URL", "the dashboard's OTLP endpoint") })
        {
            foreach (var url in (configuration[key] ?? "").Split(';', StringSplitOptions.RemoveEmptyEntries))
            {
                if (Uri.TryCreate(url, UriKind.Absolute, out var uri) && uri.Port > 0)
                    ThrowIfTaken(uri.Port, $"{key} in AppHost/Properties/launchSettings.json", what);
            }
        }
    }

    private static void ThrowIfTaken(int port, string setting, string owner)
    {
        try
        {
            using var probe = new TcpListener(IPAddress.Loopback, port);
            probe.Start();
        }
        catch (SocketException)
        {
            throw new StartupException($"port {port} (for {owner}) is already in use on 127.0.0.1: stop what holds it or pick another with {setting}.");
        }
    }

    private static int Number(IConfiguration configuration, string key, int fallback, int min, int max)
    {
        var text = configuration[key];
        if (string.IsNullOrEmpty(text))
            return fallback;
        return int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value) && value >= min && value <= max
            ? value
            : throw new StartupException($"--{key} must be a whole number from {min} to {max}; got '{text}'.");
    }
}
