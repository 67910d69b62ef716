using System.Diagnostics;
using System.Net.Sockets;

namespace OrleansBus.Testing;

/// <summary>
/// A real Azurite 3.35.0 blob service (Node) on a free loopback port, persisting to a temp folder, so
/// a test can stop the blob store mid-upload and start it again with its data. Not thread-safe.
/// </summary>
public sealed class AzuriteServer : IAsyncDisposable
{
    /// <summary>Azurite's fixed development account.</summary>
    public const string AccountName = "devstoreaccount1";

    /// <summary>Azurite's well-known, public development key (from its README); not a secret.</summary>
    public const string AccountKey = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(20);
    private static readonly TimeSpan StopTimeout = TimeSpan.FromSeconds(10);
    private readonly string _executable = FindExecutable();
    private readonly TempDirectory _dir = new("azurite");
    private readonly ProcessLog _log;
    private Process? _process;

    public AzuriteServer()
    {
        Port = FreePort.Get();
        _log = new ProcessLog(Path.Combine(_dir.Path, "azurite.log"));
    }

    public int Port { get; }

    /// <summary>Path-style endpoint: <c>http://127.0.0.1:&lt;port&gt;/devstoreaccount1</c>.</summary>
    public string BlobEndpoint => $"http://127.0.0.1:{Port}/{AccountName}";

    public string ConnectionString =>
        $"DefaultEndpointsProtocol=http;AccountName={AccountName};AccountKey={AccountKey};BlobEndpoint={BlobEndpoint};";

    public bool IsRunning => _process is { HasExited: false };

    public string LogTail() => _log.Tail();

    public static async Task<AzuriteServer> StartNewAsync(CancellationToken cancellationToken = default)
    {
        var server = new AzuriteServer();
        try
        {
            await server.StartAsync(cancellationToken);
            return server;
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
    }

    /// <summary>Starts Azurite (same port and data as before, if restarted) and waits until the port accepts.</summary>
    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        if (IsRunning)
        {
            return;
        }
        _process?.Dispose();
        _process = Launch();
        var clock = Stopwatch.StartNew();
        while (!await AcceptsAsync(cancellationToken))
        {
            if (_process.HasExited)
            {
                await _process.WaitForExitAsync(cancellationToken);
                throw new InvalidOperationException(
                    $"Azurite exited with code {_process.ExitCode} before listening on port {Port}. Log {_log.Path}:\n{LogTail()}");
            }
            if (clock.Elapsed > StartTimeout)
            {
                _process.Kill();
                await _process.WaitForExitAsync(CancellationToken.None);
                throw new TimeoutException(
                    $"Azurite did not listen on port {Port} within {StartTimeout.TotalSeconds:0} s (killed it). Log {_log.Path}:\n{LogTail()}");
            }
            await Task.Delay(50, cancellationToken);
        }
    }

    /// <summary>SIGTERM and wait (Azurite needs up to ~1 s to flush its metadata); SIGKILL after 10 s.</summary>
    public async Task StopAsync()
    {
        if (_process is null || _process.HasExited)
        {
            return;
        }
        if (Signals.Terminate(_process.Id))
        {
            using var cts = new CancellationTokenSource(StopTimeout);
            try
            {
                await _process.WaitForExitAsync(cts.Token);
                return;
            }
            catch (OperationCanceledException)
            {
                _log.Append($"[fixture] Azurite ignored SIGTERM for {StopTimeout.TotalSeconds:0} s; killing it");
            }
        }
        if (!_process.HasExited)
        {
            _process.Kill();
        }
        await _process.WaitForExitAsync();
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        AppDomain.CurrentDomain.ProcessExit -= OnProcessExit;
        _process?.Dispose();
        _process = null;
        _log.Dispose();
        _dir.Dispose();
    }

    private Process Launch()
    {
        var startInfo = new ProcessStartInfo(_executable);
        // --skipApiVersionCheck: clients newer than 3.35.0 send x-ms-version values it would reject.
        string[] arguments =
        [
            "--silent", "--disableTelemetry", "--skipApiVersionCheck", "--location", Path.Combine(_dir.Path, "data"),
            "--blobHost", "127.0.0.1", "--blobPort", Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ];
        foreach (var argument in arguments)
        {
            startInfo.ArgumentList.Add(argument);
        }
        Process process;
        try
        {
            process = _log.Start(startInfo);
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            throw new InvalidOperationException($"Cannot start {_executable} (is Node installed?): {ex.Message}", ex);
        }
        // A test host that ends without disposing us must not leave Node running.
        AppDomain.CurrentDomain.ProcessExit -= OnProcessExit;
        AppDomain.CurrentDomain.ProcessExit += OnProcessExit;
        return process;
    }

    private async Task<bool> AcceptsAsync(CancellationToken cancellationToken)
    {
        using var client = new TcpClient();
        try
        {
            await client.ConnectAsync("127.0.0.1", Port, cancellationToken);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    private void OnProcessExit(object? sender, EventArgs e) => Signals.KillIfRunning(_process);

    /// <summary><c>OBUS_AZURITE</c>, else <c>&lt;repo&gt;/node_modules/.bin/azurite-blob</c>.</summary>
    private static string FindExecutable()
    {
        var fromEnvironment = Environment.GetEnvironmentVariable("OBUS_AZURITE");
        if (!string.IsNullOrEmpty(fromEnvironment))
        {
            return File.Exists(fromEnvironment)
                ? fromEnvironment
                : throw new InvalidOperationException($"OBUS_AZURITE={fromEnvironment} does not exist.");
        }
        var root = RepoPaths.Root;
        var path = Path.Combine(root, "node_modules", ".bin", "azurite-blob");
        return File.Exists(path)
            ? path
            : throw new InvalidOperationException(
                $"Azurite not found at {path}: install it with `npm install azurite@3.35.0` in {root} or run tests/run-all.sh");
    }
}
