using Npgsql;
using OrleansBus.AppHost.Processes;

namespace OrleansBus.AppHost.Components;

/// <summary>
/// A real PostgreSQL server for the cluster's metadata, in a folder that outlives the launcher: the first
/// run creates it with <c>initdb</c>, later runs start the same cluster again. PostgreSQL refuses to run as
/// root, so as root every tool runs as the <c>postgres</c> OS user (<c>runuser -u postgres --</c>).
/// Started with <c>pg_ctl start</c>, which detaches the postmaster from our terminal; stopped with
/// <c>pg_ctl stop -m fast</c> (disconnects clients, then a clean shutdown).
/// </summary>
internal static class PostgresLauncher
{
    public const string Database = "orleansbus";
    private const string PostgresUser = "postgres";
    private static readonly TimeSpan ToolTimeout = TimeSpan.FromSeconds(90);

    /// <summary>Initializes <paramref name="dataDir"/> if it is new and starts the server.</summary>
    public static async Task<PostgresServer> StartAsync(string dataDir, int port, string logPath, CancellationToken cancellationToken)
    {
        var tools = new PostgresTools(FindBinaries(), asPostgresUser: Environment.IsPrivilegedProcess);
        if (tools.AsPostgresUser)
        {
            EnsurePostgresUser();
            (dataDir, logPath) = await ReachableByPostgresAsync(tools, dataDir, logPath, cancellationToken);
        }
        await PrepareLogAsync(tools, logPath, cancellationToken);
        if (!File.Exists(Path.Combine(dataDir, "PG_VERSION")))
        {
            await InitAsync(tools, dataDir, cancellationToken);
        }
        ThrowIfAlreadyRunning(dataDir);

        // Not cancellable: once pg_ctl runs, the postmaster must end up known (and so stopped), never orphaned.
        await tools.RunAsync("pg_ctl", ["-D", dataDir, "-l", logPath, "-w", "-t", "60", "-o", ServerOptions(dataDir, port), "start"],
            $"PostgreSQL did not start; its log is {logPath}", CancellationToken.None);
        var pid = ReadPostmasterPid(dataDir)
            ?? throw new StartupException($"PostgreSQL started but {dataDir}/postmaster.pid names no process; its log is {logPath}");
        return new PostgresServer(tools, dataDir, port, pid, logPath);
    }

    /// <summary>
    /// As root, PostgreSQL runs as the postgres OS user, which cannot enter a folder under a private parent (a clone in
    /// /root, a mktemp -d folder). Then its data and log go to <c>/var/tmp/orleansbus-apphost/&lt;hash of the path&gt;/</c>
    /// instead (kept across runs like the rest of --data), and a line says so; nothing of the user's folders is changed.
    /// </summary>
    private static async Task<(string DataDir, string LogPath)> ReachableByPostgresAsync(PostgresTools tools, string dataDir, string logPath, CancellationToken cancellationToken)
    {
        var parent = Path.GetDirectoryName(dataDir)!;
        Directory.CreateDirectory(parent);
        try
        {
            // Searchable is enough: the data folder is created and the log file pre-created by root, then handed over.
            Directory.CreateDirectory(Path.GetDirectoryName(logPath)!);
            await tools.RunAsync("test", ["-x", parent, "-a", "-x", Path.GetDirectoryName(logPath)!], "not reachable", cancellationToken, fileName: "/usr/bin/test");
            return (dataDir, logPath);
        }
        catch (StartupException)
        {
            var key = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(dataDir)))[..12];
            var home = Path.Combine("/var/tmp/orleansbus-apphost", key);
            var open = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupRead
                | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute;
            if (!OperatingSystem.IsWindows()) // root and runuser: Linux only
            {
                Directory.CreateDirectory("/var/tmp/orleansbus-apphost", open);
                Directory.CreateDirectory(home, open);
            }
            Console.WriteLine($"note: the postgres OS user cannot reach {parent}; PostgreSQL keeps its data and log in {home}");
            return (Path.Combine(home, "postgres"), Path.Combine(home, "postgres.log"));
        }
    }

    /// <summary><c>OBUS_PG_BIN</c>, else <c>/usr/local/bin</c>, else the newest <c>/usr/lib/postgresql/&lt;major&gt;/bin</c>.</summary>
    private static string FindBinaries()
    {
        var fromEnvironment = Environment.GetEnvironmentVariable("OBUS_PG_BIN");
        if (!string.IsNullOrEmpty(fromEnvironment))
        {
            return HasTools(fromEnvironment)
                ? fromEnvironment
                : throw new StartupException($"OBUS_PG_BIN={fromEnvironment} does not hold initdb, pg_ctl and postgres.");
        }
        if (HasTools("/usr/local/bin"))
        {
            return "/usr/local/bin";
        }
        var newest = Directory.Exists("/usr/lib/postgresql")
            ? Directory.GetDirectories("/usr/lib/postgresql")
                .Select(dir => (Major: int.TryParse(Path.GetFileName(dir), out var major) ? major : -1, Bin: Path.Combine(dir, "bin")))
                .Where(candidate => candidate.Major >= 0 && HasTools(candidate.Bin))
                .OrderByDescending(candidate => candidate.Major)
                .Select(candidate => candidate.Bin)
                .FirstOrDefault()
            : null;
        return newest ?? throw new StartupException(
            "PostgreSQL is not installed (no initdb/pg_ctl/postgres in OBUS_PG_BIN, /usr/local/bin or /usr/lib/postgresql/*/bin). " +
            "Install it: apt-get install postgresql");
    }

    private static bool HasTools(string dir) =>
        File.Exists(Path.Combine(dir, "initdb")) && File.Exists(Path.Combine(dir, "pg_ctl")) && File.Exists(Path.Combine(dir, "postgres"));

    private static void EnsurePostgresUser()
    {
        if (!File.ReadLines("/etc/passwd").Any(line => line.StartsWith(PostgresUser + ":", StringComparison.Ordinal)))
        {
            throw new StartupException(
                "Running as root, but there is no `postgres` OS user to run PostgreSQL as (PostgreSQL refuses root). " +
                "Install it: apt-get install postgresql");
        }
    }

    /// <summary>pg_ctl writes the server log as the postgres user, so that user must own the file.</summary>
    private static async Task PrepareLogAsync(PostgresTools tools, string logPath, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(logPath)!);
        await using (File.Open(logPath, FileMode.Append))
        {
        }
        if (tools.AsPostgresUser)
        {
            await ExternalTool.RunAsync("chown", [$"{PostgresUser}:{PostgresUser}", logPath], ToolTimeout, cancellationToken);
        }
    }

    private static async Task InitAsync(PostgresTools tools, string dataDir, CancellationToken cancellationToken)
    {
        if (Directory.Exists(dataDir) && Directory.EnumerateFileSystemEntries(dataDir).Any())
        {
            throw new StartupException(
                $"{dataDir} is not empty but holds no PostgreSQL cluster (no PG_VERSION); move it away or pick another --data folder.");
        }
        Directory.CreateDirectory(dataDir);
        if (tools.AsPostgresUser)
        {
            await ExternalTool.RunAsync("chown", [$"{PostgresUser}:{PostgresUser}", dataDir], ToolTimeout, cancellationToken);
            // Every parent must be searchable by the postgres user (a clone under /root is not, by default).
            await tools.RunAsync("test", ["-w", dataDir],
                $"The postgres OS user cannot write {dataDir}: a parent folder is not searchable for other users " +
                "(for example /root is 0700). Use --data with a folder outside it, or chmod o+x the parents", cancellationToken,
                fileName: "/usr/bin/test");
        }
        await tools.RunAsync("initdb", ["-D", dataDir, "-U", PostgresUser, "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8"],
            "initdb failed", cancellationToken);
    }

    private static void ThrowIfAlreadyRunning(string dataDir)
    {
        if (ReadPostmasterPid(dataDir) is { } pid && Signals.IsAlive(pid))
        {
            throw new StartupException(
                $"A PostgreSQL server (pid {pid}) already runs on {dataDir}, left over from an earlier run. Stop it first: " +
                $"runuser -u postgres -- pg_ctl -D {dataDir} stop -m fast");
        }
    }

    /// <summary>The first line of <c>postmaster.pid</c> is the postmaster's PID.</summary>
    private static int? ReadPostmasterPid(string dataDir)
    {
        try
        {
            var first = File.ReadLines(Path.Combine(dataDir, "postmaster.pid")).FirstOrDefault();
            return int.TryParse(first, out var pid) && pid > 0 ? pid : null;
        }
        catch (IOException)
        {
            return null;
        }
    }

    /// <remarks>
    /// pg_ctl hands <c>-o</c> to /bin/sh, hence the quoting. The socket lives in the data folder (no
    /// system-wide /var/run/postgresql needed); a socket path over the 107-byte limit of sun_path would
    /// stop the server, so a deep folder gets TCP only.
    /// </remarks>
    private static string ServerOptions(string dataDir, int port)
    {
        var socketDir = Path.Combine(dataDir, $".s.PGSQL.{port}").Length <= 100 ? dataDir : "";
        return $"-c listen_addresses=127.0.0.1 -p {port} -k '{socketDir.Replace("'", "'\\''", StringComparison.Ordinal)}' -c max_connections=200";
    }
}

/// <summary>The PostgreSQL tools, run directly or (as root) as the postgres OS user.</summary>
internal sealed class PostgresTools(string binDir, bool asPostgresUser)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(90);

    public bool AsPostgresUser { get; } = asPostgresUser;

    private static string RunUser => File.Exists("/usr/sbin/runuser") ? "/usr/sbin/runuser" : "/sbin/runuser";

    public async Task RunAsync(string tool, string[] arguments, string failure, CancellationToken cancellationToken, string? fileName = null)
    {
        var path = fileName ?? Path.Combine(binDir, tool);
        try
        {
            _ = AsPostgresUser
                ? await ExternalTool.RunAsync(RunUser, ["-u", "postgres", "--", path, .. arguments], Timeout, cancellationToken)
                : await ExternalTool.RunAsync(path, arguments, Timeout, cancellationToken);
        }
        catch (StartupException ex)
        {
            throw new StartupException($"{failure}.\n{ex.Message}", ex);
        }
    }
}

/// <summary>The running server: <see cref="Pid"/> is the postmaster, watched by polling (it is not our child).</summary>
internal sealed class PostgresServer : IClusterComponent
{
    private readonly PostgresTools _tools;
    private readonly string _dataDir;

    public PostgresServer(PostgresTools tools, string dataDir, int port, int pid, string logPath)
    {
        _tools = tools;
        _dataDir = dataDir;
        Port = port;
        Pid = pid;
        LogPath = logPath;
        Exited = WatchAsync(pid);
    }

    public string Name => "postgres";

    public int Port { get; }

    /// <summary>What the silos and the gateway get: the <c>orleansbus</c> database.</summary>
    public string Endpoint => $"Host=127.0.0.1;Port={Port};Username=postgres;Database={PostgresLauncher.Database}";

    public string AdminConnectionString => $"Host=127.0.0.1;Port={Port};Username=postgres;Database=postgres;Pooling=false";

    public int Pid { get; }

    public string LogPath { get; }

    public Task Exited { get; }

    /// <summary>Creates <paramref name="database"/> unless it exists (it does on every run after the first).</summary>
    public async Task CreateDatabaseIfMissingAsync(string database, CancellationToken cancellationToken)
    {
        try
        {
            await using var connection = new NpgsqlConnection(AdminConnectionString);
            await connection.OpenAsync(cancellationToken);
            await using var exists = new NpgsqlCommand("SELECT 1 FROM pg_database WHERE datname = @name", connection);
            exists.Parameters.AddWithValue("name", database);
            if (await exists.ExecuteScalarAsync(cancellationToken) is null)
            {
                await using var create = new NpgsqlCommand($"CREATE DATABASE \"{database.Replace("\"", "\"\"", StringComparison.Ordinal)}\"", connection);
                await create.ExecuteNonQueryAsync(cancellationToken);
            }
        }
        catch (NpgsqlException ex)
        {
            throw new StartupException($"Cannot create database {database} on 127.0.0.1:{Port}: {ex.Message}. Server log {LogPath}", ex);
        }
    }

    /// <summary>
    /// Forgets the Orleans membership rows of the previous run. Every silo of this run starts fresh, and rows left Active by
    /// an unclean stop would make each new silo probe dead addresses before it may join (about a minute).
    /// </summary>
    public async Task ClearOrleansMembershipAsync(CancellationToken cancellationToken)
    {
        try
        {
            await using var connection = new NpgsqlConnection(Endpoint + ";Pooling=false");
            await connection.OpenAsync(cancellationToken);
            await using var clear = new NpgsqlCommand(
                """
                DO $$ BEGIN
                  IF to_regclass('public.orleans_membership') IS NOT NULL THEN
                    DELETE FROM public.orleans_membership;
                    DELETE FROM public.orleans_membership_version;
                  END IF;
                END $$
                """, connection);
            await clear.ExecuteNonQueryAsync(cancellationToken);
        }
        catch (NpgsqlException ex)
        {
            throw new StartupException($"Cannot clear the previous run's Orleans membership on 127.0.0.1:{Port}: {ex.Message}. Server log {LogPath}", ex);
        }
    }

    public async Task<string> StopAsync()
    {
        if (!Signals.IsAlive(Pid))
        {
            return "had already exited";
        }
        await _tools.RunAsync("pg_ctl", ["-D", _dataDir, "-m", "fast", "-w", "-t", "60", "stop"],
            $"pg_ctl stop failed; its log is {LogPath}", CancellationToken.None);
        return "pg_ctl stop -m fast";
    }

    private static async Task WatchAsync(int pid)
    {
        while (Signals.IsAlive(pid))
        {
            await Task.Delay(TimeSpan.FromMilliseconds(500));
        }
    }
}
