using System.Globalization;
using OrleansBus.AppHost.Processes;

namespace OrleansBus.AppHost.Components;

/// <summary>
/// Azurite 3.35.0 (Node) as the blob archive tier, persisting to a folder that outlives the launcher.
/// Found at <c>OBUS_AZURITE</c> or <c>&lt;repo&gt;/node_modules/.bin/azurite-blob</c>; installed there with
/// npm on first use.
/// </summary>
internal static class AzuriteLauncher
{
    /// <summary>Azurite's fixed development account.</summary>
    public const string AccountName = "devstoreaccount1";

    /// <summary>Azurite's well-known, public development key (published in its README); not a secret.</summary>
    public const string AccountKey = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

    /// <summary>3.36+ needs Node 22; Debian 12 ships Node 18/20.</summary>
    private const string Package = "azurite@3.35.0";
    private static readonly TimeSpan InstallTimeout = TimeSpan.FromMinutes(10);
    private static readonly TimeSpan StopTimeout = TimeSpan.FromSeconds(10); // it flushes its metadata on SIGTERM (~1 s)

    public static string BlobEndpoint(int port) => $"http://127.0.0.1:{port}/{AccountName}";

    /// <summary>Starts Azurite (installing it first if needed); the caller waits for its port.</summary>
    public static async Task<ChildProcess> StartAsync(
        string repoRoot, string dataDir, int port, string logPath, TextWriter progress, CancellationToken cancellationToken)
    {
        var executable = await FindOrInstallAsync(repoRoot, progress, cancellationToken);
        Directory.CreateDirectory(dataDir);
        // --skipApiVersionCheck: clients newer than 3.35.0 send x-ms-version values it would otherwise reject.
        string[] arguments =
        [
            "--silent", "--disableTelemetry", "--skipApiVersionCheck", "--location", dataDir,
            "--blobHost", "127.0.0.1", "--blobPort", port.ToString(CultureInfo.InvariantCulture),
        ];
        return ChildProcess.Start("azurite", BlobEndpoint(port), executable, arguments, logPath, StopTimeout);
    }

    private static async Task<string> FindOrInstallAsync(string repoRoot, TextWriter progress, CancellationToken cancellationToken)
    {
        var fromEnvironment = Environment.GetEnvironmentVariable("OBUS_AZURITE");
        if (!string.IsNullOrEmpty(fromEnvironment))
        {
            return File.Exists(fromEnvironment)
                ? fromEnvironment
                : throw new StartupException($"OBUS_AZURITE={fromEnvironment} does not exist.");
        }
        var path = Path.Combine(repoRoot, "node_modules", ".bin", "azurite-blob");
        if (File.Exists(path))
        {
            return path;
        }
        var npm = FindOnPath("npm") ?? throw new StartupException(
            $"Azurite is not installed ({path} is missing) and npm is not there to install it. Install Node and npm: apt-get install nodejs npm");
        progress.WriteLine($"installing {Package} into {repoRoot}/node_modules (first run only) ...");
        // --prefix: into the repository even when a parent folder has a package.json.
        await ExternalTool.RunAsync(npm, ["install", "--prefix", repoRoot, "--no-save", "--no-audit", "--no-fund", Package], InstallTimeout, cancellationToken);
        return File.Exists(path)
            ? path
            : throw new StartupException($"npm install {Package} finished but {path} is still missing.");
    }

    private static string? FindOnPath(string name) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "")
            .Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Select(dir => Path.Combine(dir, name))
            .FirstOrDefault(File.Exists);
}
