namespace OrleansBus.Testing;

/// <summary>
/// One silo as a real child process (<c>dotnet OrleansBus.Silo.dll</c>), so a test can SIGKILL it
/// mid-write and start it again on the same port and data directory. Not thread-safe: one test drives it.
/// Only ever signals the PID it started.
/// </summary>
public sealed class SiloProcess : IAsyncDisposable
{
    private static readonly TimeSpan DefaultStartTimeout = TimeSpan.FromSeconds(60);
    private readonly DotnetChildProcess _process;

    /// <param name="dataDir">Created if missing; the log goes beside it as <c>&lt;siloId&gt;.log</c>.</param>
    /// <param name="settings">
    /// Extra configuration: a key without ':' becomes <c>--Bus:Key=Value</c>; a key with ':' is passed as is
    /// (<c>Logging:LogLevel:Default</c>).
    /// </param>
    /// <param name="port">Fixed port, e.g. to take over a dead silo's address; a free one by default.</param>
    public SiloProcess(string dataDir, string siloId, IReadOnlyDictionary<string, string>? settings = null, int? port = null)
    {
        var siloDll = RepoPaths.SiloDll(); // fails first, naming the build command
        DataDir = Path.GetFullPath(dataDir);
        SiloId = siloId;
        Port = port ?? FreePort.Get();
        // Fixed Orleans ports for the life of this fixture: a restart on the same ports supersedes the old start's
        // membership row at once, instead of waiting until the cluster declares the old one dead.
        OrleansSiloPort = FreePort.Get();
        OrleansGatewayPort = FreePort.Get();
        var arguments = new List<string>
        {
            siloDll, "--urls", BaseUrl, $"--Bus:DataDir={DataDir}", $"--Bus:SiloId={siloId}",
            $"--Orleans:Endpoints:SiloPort={OrleansSiloPort}", $"--Orleans:Endpoints:GatewayPort={OrleansGatewayPort}",
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string>())
        {
            arguments.Add(key.Contains(':', StringComparison.Ordinal) ? $"--{key}={value}" : $"--Bus:{key}={value}");
        }
        Directory.CreateDirectory(DataDir);
        _process = new DotnetChildProcess(
            $"Silo {siloId}", BaseUrl, arguments, workingDirectory: DataDir,
            logPath: Path.Combine(Path.GetDirectoryName(DataDir) ?? DataDir, $"{siloId}.log"),
            requestTimeout: TimeSpan.FromSeconds(2));
    }

    public string SiloId { get; }
    public int Port { get; }

    /// <summary>The Orleans silo-to-silo port (<c>Orleans:Endpoints:SiloPort</c>).</summary>
    public int OrleansSiloPort { get; }

    /// <summary>The Orleans client gateway port (<c>Orleans:Endpoints:GatewayPort</c>).</summary>
    public int OrleansGatewayPort { get; }
    public string DataDir { get; }
    public string BaseUrl => $"http://127.0.0.1:{Port}";
    public string LogPath => _process.LogPath;

    /// <summary>The PID of the current (or last) process.</summary>
    public int Pid => _process.Pid;

    public bool IsRunning => _process.IsRunning;

    /// <summary>The last ~200 lines the silo wrote, for assertion messages.</summary>
    public string LogTail() => _process.LogTail();

    /// <summary>Starts the process and waits until <c>GET /health/ready</c> answers 200.</summary>
    public Task StartAsync(TimeSpan? timeout = null, CancellationToken cancellationToken = default) =>
        _process.StartAsync("/health/ready", readiness: "was ready", timeout ?? DefaultStartTimeout, cancellationToken);

    /// <summary>Stops the current process (SIGTERM) and starts a new one on the same port, directory and settings.</summary>
    public async Task RestartAsync(TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        await StopAsync();
        await StartAsync(timeout, cancellationToken);
    }

    /// <summary>SIGKILL: the crash case, nothing flushed, no shutdown hooks.</summary>
    public Task KillAsync() => _process.KillAsync();

    /// <summary>SIGTERM, the graceful stop; SIGKILL if the silo is still there after 30 s.</summary>
    /// <returns>The exit code.</returns>
    public Task<int?> StopAsync() => _process.StopAsync();

    public ValueTask DisposeAsync() => _process.DisposeAsync();
}
