using System.Diagnostics;

namespace OrleansBus.AppHost.Resources;

/// <summary>
/// Where PostgreSQL and Azurite are on this machine, found (and Azurite installed on first use) before the model is
/// built, so a missing program stops the AppHost with one line instead of a resource that fails half-way.
/// </summary>
internal static class LocalPrograms
{
    private const string AzuritePackage = "azurite@3.35.0";

    /// <summary><c>OBUS_PG_BIN</c>, else <c>/usr/local/bin</c>, else the newest <c>/usr/lib/postgresql/&lt;major&gt;/bin</c>.</summary>
    public static string PostgresBin()
    {
        var fromEnvironment = Environment.GetEnvironmentVariable("OBUS_PG_BIN");
        if (!string.IsNullOrEmpty(fromEnvironment))
        {
            return HasPostgres(fromEnvironment)
                ? fromEnvironment
                : throw new StartupException($"OBUS_PG_BIN={fromEnvironment} does not hold initdb and postgres: point it at PostgreSQL's bin folder.");
        }
        if (HasPostgres("/usr/local/bin"))
            return "/usr/local/bin";
        var newest = Directory.Exists("/usr/lib/postgresql")
            ? Directory.GetDirectories("/usr/lib/postgresql")
                .Select(dir => (Major: int.TryParse(Path.GetFileName(dir), out var major) ? major : -1, Bin: Path.Combine(dir, "bin")))
                .Where(candidate => candidate.Major >= 0 && HasPostgres(candidate.Bin))
                .OrderByDescending(candidate => candidate.Major)
                .Select(candidate => candidate.Bin)
                .FirstOrDefault()
            : null;
        return newest ?? throw new StartupException(
            "PostgreSQL is not installed (no initdb and postgres in OBUS_PG_BIN, /usr/local/bin or /usr/lib/postgresql/*/bin): apt-get install postgresql, or set OBUS_PG_BIN.");
    }

    /// <summary>As root PostgreSQL runs as the <c>postgres</c> OS user (it refuses root), which must exist.</summary>
    public static void ThrowIfNoPostgresUser()
    {
        if (Environment.IsPrivilegedProcess && !File.ReadLines("/etc/passwd").Any(line => line.StartsWith("postgres:", StringComparison.Ordinal)))
        {
            throw new StartupException(
                "running as root, but there is no `postgres` OS user to run PostgreSQL as (PostgreSQL refuses root): apt-get install postgresql creates it.");
        }
    }

    /// <summary>
    /// As root, the data folder's parents must be searchable by the <c>postgres</c> user; a clone under <c>/root</c> or a
    /// <c>mktemp -d</c> folder is not. Then PostgreSQL keeps its data in <c>/var/tmp/orleansbus-apphost/&lt;hash&gt;/postgres</c>
    /// instead (kept across runs like the rest), and a line says so; none of the user's folders is changed.
    /// </summary>
    public static string PostgresDataDir(string wanted)
    {
        var parent = Path.GetDirectoryName(wanted)!;
        Directory.CreateDirectory(parent);
        if (!Environment.IsPrivilegedProcess || SearchableByPostgres(parent))
            return wanted;
        var key = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(wanted)))[..12];
        var open = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupRead
            | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute;
        var home = Path.Combine("/var/tmp/orleansbus-apphost", key);
        if (!OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory("/var/tmp/orleansbus-apphost", open);
            Directory.CreateDirectory(home, open);
        }
        Console.WriteLine($"note: the postgres OS user cannot reach {parent}; PostgreSQL keeps its data in {home}/postgres");
        return Path.Combine(home, "postgres");
    }

    /// <summary><c>OBUS_AZURITE</c>, else <c>&lt;repo&gt;/node_modules/.bin/azurite-blob</c>, installed there with npm on first use.</summary>
    public static string Azurite(string repoRoot)
    {
        var fromEnvironment = Environment.GetEnvironmentVariable("OBUS_AZURITE");
        if (!string.IsNullOrEmpty(fromEnvironment))
        {
            return File.Exists(fromEnvironment)
                ? fromEnvironment
                : throw new StartupException($"OBUS_AZURITE={fromEnvironment} does not exist: point it at azurite-blob, or unset it.");
        }
        var path = Path.Combine(repoRoot, "node_modules", ".bin", "azurite-blob");
        if (File.Exists(path))
            return path;
        var npm = OnPath("npm") ?? throw new StartupException(
            $"Azurite is not installed ({path} is missing) and there is no npm to install it: apt-get install nodejs npm.");
        Console.WriteLine($"installing {AzuritePackage} into {repoRoot}/node_modules (first run only) ...");
        // --prefix: into the repository even when a parent folder has a package.json.
        var exit = Run(npm, ["install", "--prefix", repoRoot, "--no-save", "--no-audit", "--no-fund", AzuritePackage], TimeSpan.FromMinutes(10));
        return exit == 0 && File.Exists(path)
            ? path
            : throw new StartupException($"npm install {AzuritePackage} failed (exit {exit}); run it yourself in {repoRoot} and start again.");
    }

    private static bool HasPostgres(string dir) => File.Exists(Path.Combine(dir, "initdb")) && File.Exists(Path.Combine(dir, "postgres"));

    private static bool SearchableByPostgres(string dir) =>
        Run("setpriv", ["--reuid=postgres", "--regid=postgres", "--init-groups", "--", "test", "-x", dir], TimeSpan.FromSeconds(30)) == 0;

    private static string? OnPath(string name) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "")
            .Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Select(dir => Path.Combine(dir, name))
            .FirstOrDefault(File.Exists);

    private static int Run(string program, string[] arguments, TimeSpan timeout)
    {
        var start = new ProcessStartInfo(program) { UseShellExecute = false };
        foreach (var argument in arguments)
            start.ArgumentList.Add(argument);
        using var process = Process.Start(start) ?? throw new StartupException($"cannot start {program}.");
        if (process.WaitForExit(timeout))
            return process.ExitCode;
        process.Kill(entireProcessTree: true);
        return -1;
    }
}
