namespace OrleansBus.AppHost;

/// <summary>
/// The shape of the local cluster, from the command line (<c>dotnet run --project AppHost -- --silos 5</c>).
/// Every port is on 127.0.0.1; silo <c>i</c> (1-based) listens on <c>SiloPort + i - 1</c>.
/// </summary>
internal sealed record ClusterOptions
{
    public int Silos { get; init; } = 3;
    public int GatewayPort { get; init; } = 8090;
    public int SiloPort { get; init; } = 8081;
    public int PostgresPort { get; init; } = 5440;
    public int AzuritePort { get; init; } = 10000;
    public string DataDir { get; init; } = Path.GetFullPath(".cluster");
    public int ReplicationFactor { get; init; } = 2;

    public const string Usage = """
        Starts a local OrleansBus cluster on 127.0.0.1: PostgreSQL, Azurite, N silos and the gateway.
        Ctrl+C or SIGTERM stops everything.

        Usage: dotnet run --project AppHost [-- options]

          --silos N               number of silos (default 3)
          --silo-port P           first silo's port; silo i listens on P+i-1 (default 8081)
          --gateway-port P        gateway port (default 8090)
          --postgres-port P       PostgreSQL port (default 5440)
          --azurite-port P        Azurite blob port (default 10000)
          --data DIR              folder for postgres/, azurite/, silo1/.., logs/ (default ./.cluster)
          --replication-factor N  copies of each chunk, the writer's included (default 2)
          --help                  this text

        Environment: OBUS_PG_BIN (folder with initdb, pg_ctl, postgres), OBUS_AZURITE (azurite-blob executable).
        """;

    /// <summary>The ports the cluster binds, each with the option that sets it (for "port in use" errors).</summary>
    public IEnumerable<(int Port, string Option, string Owner)> Ports()
    {
        yield return (PostgresPort, "--postgres-port", "postgres");
        yield return (AzuritePort, "--azurite-port", "azurite");
        for (var i = 1; i <= Silos; i++)
        {
            yield return (SiloPort + i - 1, "--silo-port", $"silo{i}");
        }
        yield return (GatewayPort, "--gateway-port", "gateway");
    }

    /// <summary>Parses <paramref name="args"/>; on failure <paramref name="error"/> says which option and why.</summary>
    /// <returns>The options, or null for <c>--help</c> or an error.</returns>
    public static ClusterOptions? Parse(string[] args, out string? error)
    {
        error = null;
        var options = new ClusterOptions();
        for (var i = 0; i < args.Length; i++)
        {
            var name = args[i];
            string? value = null;
            var eq = name.IndexOf('=', StringComparison.Ordinal);
            if (name.StartsWith("--", StringComparison.Ordinal) && eq > 0)
            {
                value = name[(eq + 1)..];
                name = name[..eq];
            }
            if (name is "--help" or "-h" or "-?")
            {
                return null;
            }
            if (value is null)
            {
                if (i + 1 >= args.Length)
                {
                    error = $"{name} needs a value.";
                    return null;
                }
                value = args[++i];
            }
            switch (name)
            {
                case "--silos": options = options with { Silos = Number(name, value, 1, 64, ref error) }; break;
                case "--silo-port": options = options with { SiloPort = Number(name, value, 1, 65535, ref error) }; break;
                case "--gateway-port": options = options with { GatewayPort = Number(name, value, 1, 65535, ref error) }; break;
                case "--postgres-port": options = options with { PostgresPort = Number(name, value, 1, 65535, ref error) }; break;
                case "--azurite-port": options = options with { AzuritePort = Number(name, value, 1, 65535, ref error) }; break;
                case "--replication-factor": options = options with { ReplicationFactor = Number(name, value, 1, 64, ref error) }; break;
                case "--data":
                    if (string.IsNullOrWhiteSpace(value))
                    {
                        error = "--data needs a folder.";
                    }
                    else
                    {
                        options = options with { DataDir = Path.GetFullPath(value) };
                    }
                    break;
                default:
                    error = $"Unknown option '{args[i]}' (see --help).";
                    break;
            }
            if (error is not null)
            {
                return null;
            }
        }
        if (options.SiloPort + options.Silos - 1 > 65535)
        {
            error = $"--silo-port {options.SiloPort} leaves no room for {options.Silos} silos below port 65536.";
            return null;
        }
        var seen = new Dictionary<int, string>();
        foreach (var (port, option, owner) in options.Ports())
        {
            if (!seen.TryAdd(port, owner))
            {
                error = $"{option}: port {port} ({owner}) is also given to {seen[port]}.";
                return null;
            }
        }
        return options;
    }

    private static int Number(string name, string text, int min, int max, ref string? error)
    {
        if (int.TryParse(text, out var value) && value >= min && value <= max)
        {
            return value;
        }
        error = $"{name} must be a whole number from {min} to {max}; got '{text}'.";
        return 0;
    }
}
