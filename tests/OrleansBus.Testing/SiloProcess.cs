using System.Diagnostics;
using System.Net;

namespace OrleansBus.Testing;

/// <summary>
/// One silo as a real child process (<c>dotnet OrleansBus.Silo.dll</c>), so a test can SIGKILL it
/// mid-write and start it again on the same port and data directory. Not thread-safe: one test drives it.
/// Only ever signals the PID it started.
/// </summary>
public sealed class SiloProcess : IAsyncDisposable
{
    private static readonly TimeSpan DefaultStartTimeout = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan StopTimeout = TimeSpan.FromSeconds(30);
    private readonly string[] _arguments;
    private readonly ProcessLog _log;
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(2) };
    private Process? _process;
    private int? _lastPid;

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
        var arguments = new List<string>
        {
            siloDll, "--urls", BaseUrl, $"--Bus:DataDir={DataDir}", $"--Bus:SiloId={siloId}",
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string>())
        {
            arguments.Add(key.Contains(':', StringComparison.Ordinal) ? $"--{key}={value}" : $"--Bus:{key}={value}");
        }
        _arguments = [.. arguments];
        Directory.CreateDirectory(DataDir);
        _log = new ProcessLog(Path.Combine(Path.GetDirectoryName(DataDir) ?? DataDir, $"{siloId}.log"));
    }

    public string SiloId { get; }
    public int Port { get; }
    public string DataDir { get; }
    public string BaseUrl => $"http://127.0.0.1:{Port}";
    public string LogPath => _log.Path;

    /// <summary>The PID of the current (or last) process.</summary>
    public int Pid => _lastPid ?? throw new InvalidOperationException($"Silo {SiloId} was never started.");

    public bool IsRunning => _process is { HasExited: false };

    /// <summary>The last ~200 lines the silo wrote, for assertion messages.</summary>
    public string LogTail() => _log.Tail();

    /// <summary>Starts the process and waits until <c>GET /health/ready</c> answers 200.</summary>
    public async Task StartAsync(TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        if (IsRunning)
        {
            throw new InvalidOperationException($"Silo {SiloId} is already running (pid {_process!.Id}).");
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
                await _process.WaitForExitAsync(cancellationToken); // drains the output into the log
                throw new InvalidOperationException(
                    $"Silo {SiloId} exited with code {_process.ExitCode} before it was ready on {BaseUrl}. Log {LogPath}, last lines:\n{LogTail()}");
            }
            if (await IsReadyAsync(cancellationToken))
            {
                return;
            }
            if (clock.Elapsed > limit)
            {
                await KillAsync();
                throw new TimeoutException(
                    $"Silo {SiloId} did not answer 200 on {BaseUrl}/health/ready within {limit.TotalSeconds:0} s (killed it). Log {LogPath}, last lines:\n{LogTail()}");
            }
            await Task.Delay(50, cancellationToken);
        }
    }

    /// <summary>Stops the current process (SIGTERM) and starts a new one on the same port, directory and settings.</summary>
    public async Task RestartAsync(TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        await StopAsync();
        await StartAsync(timeout, cancellationToken);
    }

    /// <summary>SIGKILL: the crash case, nothing flushed, no shutdown hooks.</summary>
    public async Task KillAsync()
    {
        if (_process is null || _process.HasExited)
        {
            return;
        }
        _process.Kill(entireProcessTree: false);
        await _process.WaitForExitAsync();
    }

    /// <summary>SIGTERM, the graceful stop; SIGKILL if the silo is still there after 30 s.</summary>
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
                _log.Append($"[fixture] silo {SiloId} ignored SIGTERM for {StopTimeout.TotalSeconds:0} s; killing it");
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

    private Process Launch()
    {
        var startInfo = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            WorkingDirectory = DataDir,
        };
        foreach (var argument in _arguments)
        {
            startInfo.ArgumentList.Add(argument);
        }
        // Server GC sizes its heaps per core; several silos per test on 2 cores would starve each other.
        startInfo.Environment["DOTNET_gcServer"] = "0";

        var process = new Process { StartInfo = startInfo };
        _log.Attach(process);
        _log.Append($"[fixture] {DateTimeOffset.UtcNow:O} starting: dotnet {string.Join(' ', _arguments)}");
        process.Start();
        process.StandardInput.Close();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        // A test host that ends without disposing us must not leave a silo holding the port.
        AppDomain.CurrentDomain.ProcessExit -= OnProcessExit;
        AppDomain.CurrentDomain.ProcessExit += OnProcessExit;
        return process;
    }

    private async Task<bool> IsReadyAsync(CancellationToken cancellationToken)
    {
        try
        {
            using var response = await _http.GetAsync(new Uri($"{BaseUrl}/health/ready"), cancellationToken);
            return response.StatusCode == HttpStatusCode.OK;
        }
        catch (HttpRequestException)
        {
            return false; // not listening yet
        }
        catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return false; // listening but slow; the overall timeout bounds us
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
