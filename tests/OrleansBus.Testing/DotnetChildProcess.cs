using System.Diagnostics;
using System.Net;

namespace OrleansBus.Testing;

/// <summary>
/// One <c>dotnet &lt;dll&gt;</c> child on a loopback URL, restartable with the same arguments: the mechanics that
/// <see cref="SiloProcess"/> and <see cref="GatewayProcess"/> share. Output goes to a <see cref="ProcessLog"/>;
/// start waits for a health path to answer 200; stop is SIGTERM, then SIGKILL after 30 s. Only ever signals
/// the PID it started. Not thread-safe: the owning fixture is driven by one test.
/// </summary>
/// <remarks>
/// Every message names the child by <c>subject</c> ("Silo s1", "The gateway") as the fixtures have always
/// worded them; tests and people grep failure output for those words.
/// </remarks>
internal sealed class DotnetChildProcess : IAsyncDisposable
{
    private static readonly TimeSpan StopTimeout = TimeSpan.FromSeconds(30);
    private readonly string _subject;
    private readonly string _baseUrl;
    private readonly string[] _arguments;
    private readonly string _workingDirectory;
    private readonly ProcessLog _log;
    private Process? _process;
    private int? _lastPid;

    /// <param name="subject">Starts each message: "Silo s1", "The gateway".</param>
    /// <param name="baseUrl">What the child listens on (already among <paramref name="arguments"/>).</param>
    /// <param name="arguments">For <c>dotnet</c>: the dll first.</param>
    /// <param name="logPath">Appended to across restarts.</param>
    /// <param name="requestTimeout">Per health probe, and for <see cref="Http"/>.</param>
    public DotnetChildProcess(
        string subject, string baseUrl, IEnumerable<string> arguments, string workingDirectory, string logPath, TimeSpan requestTimeout)
    {
        _subject = subject;
        _baseUrl = baseUrl;
        _arguments = [.. arguments];
        _workingDirectory = workingDirectory;
        _log = new ProcessLog(logPath);
        Http = new HttpClient { Timeout = requestTimeout };
    }

    /// <summary>For the owner's own requests to the child; disposed with this.</summary>
    public HttpClient Http { get; }

    public string LogPath => _log.Path;

    /// <summary>The PID of the current (or last) process.</summary>
    public int Pid => _lastPid ?? throw new InvalidOperationException($"{_subject} was never started.");

    public bool IsRunning
    {
        get
        {
            try
            {
                return _process is { HasExited: false };
            }
            catch (InvalidOperationException)
            {
                return false; // read just before a restart disposed it
            }
        }
    }

    /// <summary>The exit code once the process has ended, else null.</summary>
    public int? ExitCode => _process is { HasExited: true } ? _process.ExitCode : null;

    /// <summary>The last ~200 lines the child wrote, for assertion messages.</summary>
    public string LogTail() => _log.Tail();

    /// <summary>
    /// Starts the process and waits until <c>GET {baseUrl}{healthPath}</c> answers 200; kills it if that takes
    /// longer than <paramref name="timeout"/>.
    /// </summary>
    /// <param name="readiness">What an early exit says the child never did: "was ready", "answered".</param>
    public async Task StartAsync(string healthPath, string readiness, TimeSpan timeout, CancellationToken cancellationToken)
    {
        if (IsRunning)
        {
            throw new InvalidOperationException($"{_subject} is already running (pid {_process!.Id}).");
        }
        // The new process first, then the old one disposed: a test thread asking IsRunning meanwhile sees one or the other.
        var previous = _process;
        _process = Launch();
        previous?.Dispose();
        _lastPid = _process.Id;
        var healthUrl = new Uri(_baseUrl + healthPath);
        var clock = Stopwatch.StartNew();
        while (true)
        {
            if (_process.HasExited)
            {
                await _process.WaitForExitAsync(cancellationToken); // drains the output into the log
                throw new InvalidOperationException(
                    $"{_subject} exited with code {_process.ExitCode} before it {readiness} on {_baseUrl}. Log {LogPath}, last lines:\n{LogTail()}");
            }
            if (await AnswersAsync(healthUrl, cancellationToken))
            {
                return;
            }
            if (clock.Elapsed > timeout)
            {
                await KillAsync();
                throw new TimeoutException(
                    $"{_subject} did not answer 200 on {healthUrl} within {timeout.TotalSeconds:0} s (killed it). Log {LogPath}, last lines:\n{LogTail()}");
            }
            await Task.Delay(50, cancellationToken);
        }
    }

    /// <summary>SIGKILL: nothing flushed, no shutdown hooks.</summary>
    public async Task KillAsync()
    {
        if (_process is null || _process.HasExited)
        {
            return;
        }
        _process.Kill(entireProcessTree: false);
        await _process.WaitForExitAsync();
    }

    /// <summary>SIGTERM, the graceful stop; SIGKILL if the child is still there after 30 s.</summary>
    /// <returns>The exit code; null if never started.</returns>
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
                var inSentence = char.ToLowerInvariant(_subject[0]) + _subject[1..];
                _log.Append($"[fixture] {inSentence} ignored SIGTERM for {StopTimeout.TotalSeconds:0} s; killing it");
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
        Http.Dispose();
        _log.Dispose();
    }

    private Process Launch()
    {
        var startInfo = new ProcessStartInfo("dotnet") { WorkingDirectory = _workingDirectory };
        foreach (var argument in _arguments)
        {
            startInfo.ArgumentList.Add(argument);
        }
        // Server GC sizes its heaps per core; several silos and a gateway per test on 2 cores would starve each other.
        startInfo.Environment["DOTNET_gcServer"] = "0";
        _log.Append($"[fixture] {DateTimeOffset.UtcNow:O} starting: dotnet {string.Join(' ', _arguments)}");
        var process = _log.Start(startInfo);
        // A test host that ends without disposing us must not leave a child holding the port.
        AppDomain.CurrentDomain.ProcessExit -= OnProcessExit;
        AppDomain.CurrentDomain.ProcessExit += OnProcessExit;
        return process;
    }

    private async Task<bool> AnswersAsync(Uri url, CancellationToken cancellationToken)
    {
        try
        {
            using var response = await Http.GetAsync(url, cancellationToken);
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

    private void OnProcessExit(object? sender, EventArgs e) => Signals.KillIfRunning(_process);
}
