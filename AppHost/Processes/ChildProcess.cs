using System.Diagnostics;
using OrleansBus.AppHost.Components;

namespace OrleansBus.AppHost.Processes;

/// <summary>
/// One long-running child (Azurite, a silo, the gateway) whose stdout and stderr go to its own log file,
/// not to the console. It runs in its own session (<c>setsid</c>, which execs in place, so the PID is the
/// program's): Ctrl+C in the terminal reaches only the launcher, which then stops the children in order.
/// Only ever signals the PID it started. Not thread-safe; the launcher drives it from one flow.
/// </summary>
internal sealed class ChildProcess : IClusterComponent, IDisposable
{
    private const int TailLines = 200;
    private const string SetSid = "/usr/bin/setsid";
    private readonly Process _process;
    private readonly StreamWriter _log;
    private readonly Queue<string> _tail = new();
    private readonly Lock _lock = new();

    private ChildProcess(string name, string endpoint, string logPath, TimeSpan stopTimeout, Process process, StreamWriter log)
    {
        Name = name;
        StopTimeout = stopTimeout;
        Endpoint = endpoint;
        LogPath = logPath;
        _process = process;
        _log = log;
    }

    public string Name { get; }

    public string Endpoint { get; }

    public string LogPath { get; }

    public int Pid { get; private set; }

    /// <summary>How long <see cref="StopAsync"/> waits after SIGTERM before SIGKILL.</summary>
    public TimeSpan StopTimeout { get; }

    /// <summary>Completes when the process has ended (for whatever reason) and its output is in the log.</summary>
    public Task Exited { get; private set; } = Task.CompletedTask;

    public bool HasExited => _process.HasExited;

    public int ExitCode => _process.ExitCode;

    /// <summary>Starts <paramref name="fileName"/> with stdin closed and its output appended to <paramref name="logPath"/>.</summary>
    public static ChildProcess Start(
        string name, string endpoint, string fileName, IEnumerable<string> arguments, string logPath, TimeSpan stopTimeout,
        IReadOnlyDictionary<string, string>? environment = null, string? workingDirectory = null)
    {
        var ownSession = File.Exists(SetSid);
        var startInfo = new ProcessStartInfo(ownSession ? SetSid : fileName)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? Environment.CurrentDirectory,
        };
        if (ownSession)
        {
            startInfo.ArgumentList.Add(fileName);
        }
        foreach (var argument in arguments)
        {
            startInfo.ArgumentList.Add(argument);
        }
        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            startInfo.Environment[key] = value;
        }

        Directory.CreateDirectory(Path.GetDirectoryName(logPath)!);
        var log = new StreamWriter(new FileStream(logPath, FileMode.Append, FileAccess.Write, FileShare.ReadWrite)) { AutoFlush = true };
        var child = new ChildProcess(name, endpoint, logPath, stopTimeout, new Process { StartInfo = startInfo }, log);
        child._process.OutputDataReceived += (_, e) => child.Append(e.Data);
        child._process.ErrorDataReceived += (_, e) => child.Append(e.Data);
        child.Append($"[apphost] {DateTimeOffset.Now:O} starting: {fileName} {string.Join(' ', arguments)}");
        try
        {
            child._process.Start();
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            child.Dispose();
            throw new StartupException($"Cannot start {name} ({fileName}): {ex.Message}");
        }
        child.Pid = child._process.Id;
        child._process.StandardInput.Close();
        child._process.BeginOutputReadLine();
        child._process.BeginErrorReadLine();
        child.Exited = child._process.WaitForExitAsync(CancellationToken.None);
        return child;
    }

    /// <summary>The last lines the child wrote, for error messages.</summary>
    public string LogTail(int lines = 40)
    {
        lock (_lock)
        {
            return string.Join('\n', _tail.Skip(Math.Max(0, _tail.Count - lines)));
        }
    }

    /// <summary>SIGTERM, the graceful stop; SIGKILL if it is still there after <see cref="StopTimeout"/>.</summary>
    public async Task<string> StopAsync()
    {
        if (_process.HasExited)
        {
            await Exited;
            return $"had already exited (code {_process.ExitCode})";
        }
        if (Signals.Send(Pid, Signals.SigTerm))
        {
            using var cts = new CancellationTokenSource(StopTimeout);
            try
            {
                await Exited.WaitAsync(cts.Token);
                return $"exit code {_process.ExitCode}";
            }
            catch (OperationCanceledException)
            {
                Append($"[apphost] ignored SIGTERM for {StopTimeout.TotalSeconds:0} s; killing it");
            }
        }
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: false);
        }
        await Exited;
        return "killed after the SIGTERM timeout";
    }

    public void Dispose()
    {
        _process.Dispose();
        lock (_lock)
        {
            _log.Dispose();
        }
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return; // end of stream
        }
        lock (_lock)
        {
            _tail.Enqueue(line);
            while (_tail.Count > TailLines)
            {
                _tail.Dequeue();
            }
            try
            {
                _log.WriteLine(line);
            }
            catch (ObjectDisposedException)
            {
                // A late line after dispose: the tail still has it.
            }
        }
    }
}
