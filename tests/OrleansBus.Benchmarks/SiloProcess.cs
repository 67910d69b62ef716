using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace OrleansBus.Benchmarks;

/// <summary>
/// A release-built silo run as a child process on a free loopback port with a throw-away data directory
/// (<c>--start-silo</c>). Program starts it once and disposes it once; disposal stops it by PID (SIGTERM,
/// then SIGKILL after 15 s) and deletes the directory. A failed start throws
/// <see cref="InvalidOperationException"/> carrying the silo's last output lines.
/// </summary>
internal sealed class SiloProcess : IAsyncDisposable
{
    public const string RelativeDllPath = "Silo/bin/Release/net10.0/OrleansBus.Silo.dll";
    private static readonly TimeSpan ReadyTimeout = TimeSpan.FromSeconds(60), StopTimeout = TimeSpan.FromSeconds(15);

    private readonly Process _process = new();
    private readonly string _dataDir = Directory.CreateTempSubdirectory("orleansbus-bench-").FullName;
    // Only a tail is kept, for error messages; draining the pipes at all keeps the silo from blocking on a full one.
    private readonly ConcurrentQueue<string> _output = new();
    private bool _started; // Process.HasExited throws for a process that never started

    public Uri Url { get; } = new($"http://127.0.0.1:{FreeLoopbackPort()}/");

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
        var silo = new SiloProcess();
        var info = silo._process.StartInfo;
        (info.FileName, info.UseShellExecute, info.RedirectStandardOutput, info.RedirectStandardError) = ("dotnet", false, true, true);
        foreach (var arg in (string[])[dllPath, "--urls", silo.Url.GetLeftPart(UriPartial.Authority), $"--Bus:DataDir={silo._dataDir}"])
            info.ArgumentList.Add(arg);
        silo._process.OutputDataReceived += (_, e) => silo.Keep(e.Data);
        silo._process.ErrorDataReceived += (_, e) => silo.Keep(e.Data);
        try
        {
            silo._started = silo._process.Start();
            silo._process.BeginOutputReadLine();
            silo._process.BeginErrorReadLine();
            await silo.WaitUntilReadyAsync(ct);
            Console.WriteLine($"silo     pid {silo._process.Id} at {silo.Url}, data in {silo._dataDir}");
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
        var ready = new Uri(Url, "health/ready");
        for (var waited = Stopwatch.StartNew(); waited.Elapsed < ReadyTimeout; await Task.Delay(200, ct))
        {
            if (_process.HasExited)
                throw new InvalidOperationException($"The silo exited with code {_process.ExitCode} before it was ready.{Tail()}");
            try
            {
                using var response = await probe.GetAsync(ready, ct);
                if (response.StatusCode == HttpStatusCode.OK)
                    return;
            }
            catch (Exception e) when (e is HttpRequestException || (e is TaskCanceledException && !ct.IsCancellationRequested))
            {
                // Not listening yet, or the probe's own timeout: ask again until the deadline.
            }
        }
        throw new InvalidOperationException($"GET {ready} did not return 200 within {ReadyTimeout.TotalSeconds:F0} s.{Tail()}");
    }

    public async ValueTask DisposeAsync()
    {
        if (_started && !_process.HasExited)
        {
            // SIGTERM lets the silo seal its chunks and exit cleanly; Process.Kill would send SIGKILL.
            using (var kill = Process.Start("kill", ["-TERM", _process.Id.ToString(CultureInfo.InvariantCulture)]))
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
        if (line is not null)
            _output.Enqueue(line);
        if (_output.Count > 40)
            _output.TryDequeue(out _);
    }

    private string Tail() => _output.IsEmpty ? " It printed nothing." : "\nIts last output lines:\n  " + string.Join("\n  ", _output);

    // Free when asked; another process could take it before the silo binds, which shows as a failed start.
    private static int FreeLoopbackPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
