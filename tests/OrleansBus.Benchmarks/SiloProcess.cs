using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace OrleansBus.Benchmarks;

/// <summary>
/// A release-built silo started as a child process on a free loopback port with a throw-away data
/// directory (<c>--start-silo</c>). Program starts it once and disposes it once; disposal stops it by
/// PID (SIGTERM, then SIGKILL after 15 s) and deletes the data directory. Start failures throw
/// <see cref="InvalidOperationException"/> with the silo's last output lines.
/// </summary>
internal sealed class SiloProcess : IAsyncDisposable
{
    public const string RelativeDllPath = "Silo/bin/Release/net10.0/OrleansBus.Silo.dll";
    private static readonly TimeSpan ReadyTimeout = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan StopTimeout = TimeSpan.FromSeconds(15);
    private const int KeptOutputLines = 40;

    private readonly Process _process;
    private readonly string _dataDir;
    // Only the tail is kept, for error messages; reading the pipes at all keeps the silo from blocking on a full one.
    private readonly ConcurrentQueue<string> _output = new();

    private SiloProcess(Process process, string dataDir, Uri url)
    {
        _process = process;
        _dataDir = dataDir;
        Url = url;
    }

    public Uri Url { get; }

    /// <summary>The folder holding OrleansBus.sln, found by walking up from this program's own folder.</summary>
    public static string? FindRepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "OrleansBus.sln")))
                return dir.FullName;
        }
        return null;
    }

    public static async Task<SiloProcess> StartAsync(string dllPath, CancellationToken ct)
    {
        var url = new Uri($"http://127.0.0.1:{FreeLoopbackPort()}/");
        var dataDir = Directory.CreateTempSubdirectory("orleansbus-bench-").FullName;
        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in (string[])[dllPath, "--urls", url.AbsoluteUri.TrimEnd('/'), $"--Bus:DataDir={dataDir}"])
            info.ArgumentList.Add(arg);
        var process = new Process { StartInfo = info };
        var silo = new SiloProcess(process, dataDir, url);
        process.OutputDataReceived += (_, e) => silo.Keep(e.Data);
        process.ErrorDataReceived += (_, e) => silo.Keep(e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            await silo.WaitUntilReadyAsync(ct);
            return silo;
        }
        catch
        {
            await silo.DisposeAsync();
            throw;
        }
    }

    private async Task WaitUntilReadyAsync(CancellationToken ct)
    {
        using var probe = new HttpClient(new SocketsHttpHandler { UseProxy = false }) { Timeout = TimeSpan.FromSeconds(2) };
        var readyUri = new Uri(Url, "health/ready");
        var deadline = Stopwatch.GetTimestamp() + (long)(ReadyTimeout.TotalSeconds * Stopwatch.Frequency);
        while (Stopwatch.GetTimestamp() < deadline)
        {
            if (_process.HasExited)
                throw new InvalidOperationException($"The silo exited with code {_process.ExitCode} before it was ready.{Tail()}");
            try
            {
                using var response = await probe.GetAsync(readyUri, ct);
                if (response.StatusCode == HttpStatusCode.OK)
                    return;
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }
            catch (TaskCanceledException) when (!ct.IsCancellationRequested)
            {
                // The probe's own timeout: the silo is listening but slow; try again.
            }
            await Task.Delay(200, ct);
        }
        throw new InvalidOperationException($"GET {readyUri} did not return 200 within {ReadyTimeout.TotalSeconds:F0} s.{Tail()}");
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            // SIGTERM lets the silo seal its chunks and exit cleanly; Process.Kill would send SIGKILL.
            using (var kill = Process.Start("kill", ["-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
                await kill.WaitForExitAsync();
            using var stopWait = new CancellationTokenSource(StopTimeout);
            try
            {
                await _process.WaitForExitAsync(stopWait.Token);
            }
            catch (OperationCanceledException)
            {
                await Console.Error.WriteLineAsync($"The silo did not stop within {StopTimeout.TotalSeconds:F0} s of SIGTERM; killing it.");
                _process.Kill(entireProcessTree: true);
                await _process.WaitForExitAsync();
            }
        }
        _process.Dispose();
        try
        {
            Directory.Delete(_dataDir, recursive: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            await Console.Error.WriteLineAsync($"Could not delete the silo's data directory {_dataDir}: {e.Message}");
        }
    }

    private void Keep(string? line)
    {
        if (line is null)
            return;
        _output.Enqueue(line);
        while (_output.Count > KeptOutputLines)
            _output.TryDequeue(out _);
    }

    private string Tail() =>
        _output.IsEmpty ? " The silo printed nothing." : "\nLast lines of its output:\n  " + string.Join("\n  ", _output);

    // The port is free when asked; another process could take it before the silo binds, which would show as a start failure.
    private static int FreeLoopbackPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
