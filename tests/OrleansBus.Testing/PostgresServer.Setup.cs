namespace OrleansBus.Testing;

// Where the binaries are, and the one server shared by every test class of a test process.
public sealed partial class PostgresServer
{
    private static readonly Lock SharedLock = new();
    private static Task<PostgresServer>? s_shared;

    private static string RunUser =>
        File.Exists("/usr/sbin/runuser") ? "/usr/sbin/runuser" : File.Exists("/sbin/runuser") ? "/sbin/runuser" : "runuser";

    /// <summary>
    /// One server per test process, started on first use (initdb takes ~1.5 s) and stopped at process exit.
    /// Each test class creates its own database on it; stop/restart tests need <see cref="StartNewAsync"/>.
    /// </summary>
    public static Task<PostgresServer> SharedAsync()
    {
        lock (SharedLock)
        {
            // A failure is kept: every class then fails fast with the same message instead of retrying initdb.
            return s_shared ??= StartSharedAsync();
        }
    }

    private static async Task<PostgresServer> StartSharedAsync()
    {
        var server = new PostgresServer(isShared: true);
        AppDomain.CurrentDomain.ProcessExit += (_, _) => server.StopAtExit();
        await server.StartAsync();
        return server;
    }

    private void StopAtExit()
    {
        try
        {
            StopCoreAsync(CancellationToken.None).GetAwaiter().GetResult();
        }
        catch (InvalidOperationException)
        {
            // Exiting anyway; a leftover server dies with the CI container.
        }
        catch (TimeoutException)
        {
        }
        _dir.Dispose();
    }

    /// <summary><c>OBUS_PG_BIN</c>, else <c>/usr/local/bin</c>, else the newest <c>/usr/lib/postgresql/*/bin</c>.</summary>
    private static string FindBinaries()
    {
        var fromEnvironment = Environment.GetEnvironmentVariable("OBUS_PG_BIN");
        if (!string.IsNullOrEmpty(fromEnvironment))
        {
            return HasTools(fromEnvironment)
                ? fromEnvironment
                : throw new InvalidOperationException($"OBUS_PG_BIN={fromEnvironment} has no initdb and pg_ctl.");
        }
        if (HasTools("/usr/local/bin"))
        {
            return "/usr/local/bin";
        }
        if (Directory.Exists("/usr/lib/postgresql"))
        {
            var newest = Directory.GetDirectories("/usr/lib/postgresql")
                .Select(dir => (Version: int.TryParse(Path.GetFileName(dir), out var v) ? v : -1, Bin: Path.Combine(dir, "bin")))
                .Where(candidate => candidate.Version >= 0 && HasTools(candidate.Bin))
                .OrderByDescending(candidate => candidate.Version)
                .Select(candidate => candidate.Bin)
                .FirstOrDefault();
            if (newest is not null)
            {
                return newest;
            }
        }
        throw new InvalidOperationException("PostgreSQL not found: install it with `apt-get install postgresql` or run tests/run-all.sh");
    }

    private static bool HasTools(string dir) =>
        File.Exists(Path.Combine(dir, "initdb")) && File.Exists(Path.Combine(dir, "pg_ctl"));

    private static void EnsurePostgresUser()
    {
        foreach (var line in File.ReadLines("/etc/passwd"))
        {
            if (line.StartsWith("postgres:", StringComparison.Ordinal))
            {
                return;
            }
        }
        throw new InvalidOperationException(
            "Running as root, but there is no `postgres` OS user to run PostgreSQL as: install it with `apt-get install postgresql` or run tests/run-all.sh");
    }
}
