using System.Diagnostics;
using System.Net;
using System.Text.Json;

namespace OrleansBus.Testing;

/// <summary>
/// The gateway as a real child process (<c>dotnet OrleansBus.Gateway.dll</c>) on a free loopback port, for tests
/// and launchers that need the REST edge in front of <see cref="SiloProcess"/>es. Not thread-safe: one test
/// drives it. Only ever signals the PID it started.
/// </summary>
/// <example>
/// <code>
/// await using var gateway = new GatewayProcess(dir.Combine("gw"), new() { ["Silos"] = $"{a.BaseUrl},{b.BaseUrl}" });
/// await gateway.StartAsync();
/// await gateway.WaitForLiveSilosAsync(2);
/// </code>
/// </example>
public sealed class GatewayProcess : IAsyncDisposable
{
    private static readonly TimeSpan DefaultStartTimeout = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan StopTimeout = TimeSpan.FromSeconds(30);
    private readonly string[] _arguments;
    private readonly ProcessLog _log;
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(5) };
    private Process? _process;
    private int? _lastPid;

    /// <param name="workDir">Working directory (created if missing); the log goes beside it as <c>&lt;name&gt;.log</c>.</param>
    /// <param name="settings">
    /// Configuration: a key without ':' becomes <c>--Gateway:Key=Value</c> (<c>Silos</c>, <c>PostgresConnectionString</c>,
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
        _arguments = [.. arguments];
        Directory.CreateDirectory(WorkDir);
        _log = new ProcessLog(Path.Combine(Path.GetDirectoryName(WorkDir) ?? WorkDir, $"{name}.log"));
    }

    public int Port { get; }
    public string WorkDir { get; }
    public string BaseUrl => $"http://127.0.0.1:{Port}";
    public string LogPath => _log.Path;

    /// <summary>The PID of the current (or last) process.</summary>
    public int Pid => _lastPid ?? throw new InvalidOperationException("The gateway was never started.");

    public bool IsRunning => _process is { HasExited: false };

    /// <summary>The exit code once the process has ended, else null.</summary>
    public int? ExitCode => _process is { HasExited: true } ? _process.ExitCode : null;

    /// <summary>The last ~200 lines the gateway wrote, for assertion messages.</summary>
    public string LogTail() => _log.Tail();

    /// <summary>
    /// Starts the process and waits until <c>GET /health/live</c> answers 200 (not ready: a gateway without live
    /// silos is a valid state to test). Use <see cref="WaitForLiveSilosAsync"/> to wait for routing.
    /// </summary>
    public async Task StartAsync(TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        if (IsRunning)
        {
            throw new InvalidOperationException($"The gateway is already running (pid {_process!.Id}).");
        }
        _process?.Dispose();
        _process = Launch();
        _lastPid = _process.Id;
        var limit = timeout ?? DefaultStartTimeout;
        var clock = Stopwatch.StartNew();
        while (true)
        {
            if (_process.HasExited)
            {
                await _process.WaitForExitAsync(cancellationToken);
                throw new InvalidOperationException(
                    $"The gateway exited with code {_process.ExitCode} before it answered on {BaseUrl}. Log {LogPath}, last lines:\n{LogTail()}");
            }
            if (await AnswersAsync("/health/live", cancellationToken))
            {
                return;
            }
            if (clock.Elapsed > limit)
            {
                await KillAsync();
                throw new TimeoutException(
                    $"The gateway did not answer 200 on {BaseUrl}/health/live within {limit.TotalSeconds:0} s (killed it). Log {LogPath}, last lines:\n{LogTail()}");
            }
            await Task.Delay(50, cancellationToken);
        }
    }

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
                last = await _http.GetStringAsync(new Uri($"{BaseUrl}/gateway/silos"), cancellationToken);
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
    public async Task KillAsync()
    {
        if (_process is null || _process.HasExited)
        {
            return;
        }
        _process.Kill(entireProcessTree: false);
        await _process.WaitForExitAsync();
    }

    /// <summary>SIGTERM, SIGKILL if still there after 30 s.</summary>
    /// <returns>The exit code.</returns>
    public async Task<int?> StopAsync()
    {
        if (_process is null)
        {
            return null;
        }
        if (!_process.HasExited && Signals.Terminate(_process.Id))
        {
            using var cts = new CancellationTokenSource(StopTimeout);
            try
            {
                await _process.WaitForExitAsync(cts.Token);
            }
            catch (OperationCanceledException)
            {
                _log.Append($"[fixture] the gateway ignored SIGTERM for {StopTimeout.TotalSeconds:0} s; killing it");
            }
        }
        await KillAsync();
        return _process.ExitCode;
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        AppDomain.CurrentDomain.ProcessExit -= OnProcessExit;
        _process?.Dispose();
        _process = null;
        _http.Dispose();
        _log.Dispose();
    }

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

    private Process Launch()
    {
        var startInfo = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            WorkingDirectory = WorkDir,
        };
        foreach (var argument in _arguments)
        {
            startInfo.ArgumentList.Add(argument);
        }
        // Workstation GC: the gateway shares 2 cores with several silos in a test.
        startInfo.Environment["DOTNET_gcServer"] = "0";
        var process = new Process { StartInfo = startInfo };
        _log.Attach(process);
        _log.Append($"[fixture] {DateTimeOffset.UtcNow:O} starting: dotnet {string.Join(' ', _arguments)}");
        process.Start();
        process.StandardInput.Close();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        // A test host that ends without disposing us must not leave a gateway holding the port.
        AppDomain.CurrentDomain.ProcessExit -= OnProcessExit;
        AppDomain.CurrentDomain.ProcessExit += OnProcessExit;
        return process;
    }

    private async Task<bool> AnswersAsync(string path, CancellationToken cancellationToken)
    {
        try
        {
            using var response = await _http.GetAsync(new Uri(BaseUrl + path), cancellationToken);
            return response.StatusCode == HttpStatusCode.OK;
        }
        catch (HttpRequestException)
        {
            return false;
        }
        catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return false;
        }
    }

    private void OnProcessExit(object? sender, EventArgs e)
    {
        try
        {
            if (_process is { HasExited: false })
            {
                _process.Kill();
            }
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }
    }
}
