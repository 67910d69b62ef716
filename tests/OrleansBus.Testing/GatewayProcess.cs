using System.Diagnostics;
using System.Text.Json;

namespace OrleansBus.Testing;

/// <summary>
/// The gateway as a real child process (<c>dotnet OrleansBus.Gateway.dll</c>) on a free loopback port, for tests
/// and launchers that need the REST edge in front of <see cref="SiloProcess"/>es. Not thread-safe: one test
/// drives it. Only ever signals the PID it started.
/// </summary>
/// <example>
/// <code>
/// await using var gateway = new GatewayProcess(dir.Combine("gw"), new() { ["PostgresConnectionString"] = connectionString, ["PostgresSchema"] = "bus" });
/// await gateway.StartAsync();
/// await gateway.WaitForLiveSilosAsync(2);
/// </code>
/// </example>
public sealed class GatewayProcess : IAsyncDisposable
{
    private static readonly TimeSpan DefaultStartTimeout = TimeSpan.FromSeconds(60);
    private readonly DotnetChildProcess _process;

    /// <param name="workDir">Working directory (created if missing); the log goes beside it as <c>&lt;name&gt;.log</c>.</param>
    /// <param name="settings">
    /// Configuration: a key without ':' becomes <c>--Gateway:Key=Value</c> (<c>PostgresConnectionString</c>,
    /// <c>PostgresSchema</c>, <c>RefreshInterval</c>, <c>DeadAfter</c>); a key with ':' is passed as is.
    /// </param>
    /// <param name="port">Fixed port; a free one by default.</param>
    /// <param name="name">Names the log file.</param>
    public GatewayProcess(string workDir, IReadOnlyDictionary<string, string>? settings = null, int? port = null, string name = "gateway")
    {
        var gatewayDll = RepoPaths.GatewayDll(); // fails first, naming the build command
        WorkDir = Path.GetFullPath(workDir);
        Port = port ?? FreePort.Get();
        var arguments = new List<string>
        {
            gatewayDll, "--urls", BaseUrl,
            // Request lines at Information would drown the routing lines the tests read.
            "--Logging:LogLevel:Microsoft.AspNetCore=Warning",
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string>())
        {
            arguments.Add(key.Contains(':', StringComparison.Ordinal) ? $"--{key}={value}" : $"--Gateway:{key}={value}");
        }
        Directory.CreateDirectory(WorkDir);
        _process = new DotnetChildProcess(
            "The gateway", BaseUrl, arguments, workingDirectory: WorkDir,
            logPath: Path.Combine(Path.GetDirectoryName(WorkDir) ?? WorkDir, $"{name}.log"),
            requestTimeout: TimeSpan.FromSeconds(5));
    }

    public int Port { get; }
    public string WorkDir { get; }
    public string BaseUrl => $"http://127.0.0.1:{Port}";
    public string LogPath => _process.LogPath;

    /// <summary>The PID of the current (or last) process.</summary>
    public int Pid => _process.Pid;

    public bool IsRunning => _process.IsRunning;

    /// <summary>The exit code once the process has ended, else null.</summary>
    public int? ExitCode => _process.ExitCode;

    /// <summary>The last ~200 lines the gateway wrote, for assertion messages.</summary>
    public string LogTail() => _process.LogTail();

    /// <summary>
    /// Starts the process and waits until <c>GET /health/live</c> answers 200 (not ready: a gateway without live
    /// silos is a valid state to test). Use <see cref="WaitForLiveSilosAsync"/> to wait for routing.
    /// </summary>
    public Task StartAsync(TimeSpan? timeout = null, CancellationToken cancellationToken = default) =>
        _process.StartAsync("/health/live", readiness: "answered", timeout ?? DefaultStartTimeout, cancellationToken);

    /// <summary>Waits until <c>GET /gateway/silos</c> lists exactly <paramref name="count"/> live silos.</summary>
    public async Task WaitForLiveSilosAsync(int count, TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        var limit = timeout ?? TimeSpan.FromSeconds(30);
        var clock = Stopwatch.StartNew();
        var last = "(no answer)";
        while (clock.Elapsed < limit)
        {
            try
            {
                last = await _process.Http.GetStringAsync(new Uri($"{BaseUrl}/gateway/silos"), cancellationToken);
                if (CountLive(last) == count)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
                // Not answering (yet); the overall timeout bounds us.
            }
            await Task.Delay(50, cancellationToken);
        }
        throw new TimeoutException(
            $"The gateway never listed {count} live silos within {limit.TotalSeconds:0} s; last listing {last}. Log {LogPath}, last lines:\n{LogTail()}");
    }

    /// <summary>SIGKILL.</summary>
    public Task KillAsync() => _process.KillAsync();

    /// <summary>SIGTERM, SIGKILL if still there after 30 s.</summary>
    /// <returns>The exit code.</returns>
    public Task<int?> StopAsync() => _process.StopAsync();

    public ValueTask DisposeAsync() => _process.DisposeAsync();

    private static int CountLive(string listing)
    {
        using var document = JsonDocument.Parse(listing);
        var live = 0;
        foreach (var silo in document.RootElement.EnumerateArray())
        {
            if (silo.GetProperty("live").GetBoolean())
            {
                live++;
            }
        }
        return live;
    }
}
