using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace OrleansBus.Benchmarks.Compare;

/// <summary>
/// A server child process (redis-server, nats-server) on a loopback port, with a throw-away directory. Dispose
/// stops it by its own PID (SIGTERM, SIGKILL after 10 s) and deletes the directory; nothing else is signalled.
/// </summary>
internal sealed class PeerProcess : IAsyncDisposable
{
    private static readonly TimeSpan ReadyTimeout = TimeSpan.FromSeconds(30), StopTimeout = TimeSpan.FromSeconds(10);
    private readonly Process _process = new();
    private readonly ConcurrentQueue<string> _output = new();
    private bool _started;

    private PeerProcess(string name, int port, string dataDir) => (Name, Port, DataDir) = (name, port, dataDir);

    public string Name { get; }
    public int Port { get; }
    public string DataDir { get; }
    public int Pid => _process.Id;

    /// <summary>Starts <paramref name="file"/> with <paramref name="args"/> and waits until its port accepts connections.</summary>
    public static async Task<PeerProcess> StartAsync(string name, string file, IEnumerable<string> args, int port, string dataDir, CancellationToken ct)
    {
        var peer = new PeerProcess(name, port, dataDir);
        var info = peer._process.StartInfo;
        (info.FileName, info.UseShellExecute, info.RedirectStandardOutput, info.RedirectStandardError) = (file, false, true, true);
        info.WorkingDirectory = dataDir;
        foreach (var a in args)
            info.ArgumentList.Add(a);
        peer._process.OutputDataReceived += (_, e) => peer.Keep(e.Data);
        peer._process.ErrorDataReceived += (_, e) => peer.Keep(e.Data);
        try
        {
            peer._started = peer._process.Start();
            peer._process.BeginOutputReadLine();
            peer._process.BeginErrorReadLine();
            for (var waited = Stopwatch.StartNew(); ; await Task.Delay(50, ct))
            {
                if (peer._process.HasExited)
                    throw new InvalidOperationException($"{name} exited with code {peer._process.ExitCode} before it listened.{peer.Tail()}");
                if (waited.Elapsed > ReadyTimeout)
                    throw new InvalidOperationException($"{name} did not listen on 127.0.0.1:{port} within {ReadyTimeout.TotalSeconds:F0} s.{peer.Tail()}");
                if (CanConnect(port))
                    return peer;
            }
        }
        catch
        {
            await peer.DisposeAsync();
            throw;
        }
    }

    public static int FreeLoopbackPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>Runs <c>file args</c> and returns its first output line (for versions), or null if it cannot run.</summary>
    public static string? FirstLineOf(string file, params string[] args)
    {
        try
        {
            using var p = Process.Start(new ProcessStartInfo(file, args) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false });
            if (p is null)
                return null;
            var line = p.StandardOutput.ReadLine() ?? p.StandardError.ReadLine();
            p.WaitForExit(5000);
            return line;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return null; // not installed
        }
    }

    private static bool CanConnect(int port)
    {
        try
        {
            using var s = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            s.Connect(IPAddress.Loopback, port);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_started && !_process.HasExited)
        {
            using (var kill = Process.Start("kill", ["-TERM", _process.Id.ToString(CultureInfo.InvariantCulture)]))
                await kill.WaitForExitAsync();
            using var wait = new CancellationTokenSource(StopTimeout);
            try
            {
                await _process.WaitForExitAsync(wait.Token);
            }
            catch (OperationCanceledException)
            {
                await Console.Error.WriteLineAsync($"{Name} (pid {_process.Id}) did not stop within {StopTimeout.TotalSeconds:F0} s of SIGTERM; killing it.");
                _process.Kill();
                await _process.WaitForExitAsync();
            }
        }
        _process.Dispose();
        try
        {
            Directory.Delete(DataDir, recursive: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            await Console.Error.WriteLineAsync($"Could not delete {DataDir}: {e.Message}");
        }
    }

    private void Keep(string? line)
    {
        if (line is not null)
            _output.Enqueue(line);
        if (_output.Count > 30)
            _output.TryDequeue(out _);
    }

    private string Tail() => _output.IsEmpty ? "" : "\nIts last output lines:\n  " + string.Join("\n  ", _output);
}
