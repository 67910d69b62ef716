using System.Diagnostics;

namespace OrleansBus.Testing;

/// <summary>
/// Starts a child with its stdout and stderr collected into a log file (appended, so restarts keep their history)
/// and keeps the last lines in memory for exception messages. Thread-safe: both streams call in.
/// </summary>
internal sealed class ProcessLog : IDisposable
{
    private const int TailLines = 200;
    private readonly Queue<string> _tail = new();
    private readonly StreamWriter _file;
    private readonly Lock _lock = new();

    public ProcessLog(string path)
    {
        Path = path;
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(path)!);
        _file = new StreamWriter(new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.ReadWrite)) { AutoFlush = true };
    }

    public string Path { get; }

    /// <summary>
    /// Starts <paramref name="startInfo"/> with stdin closed (a child waiting on a console would hang) and both
    /// output streams fed here. Throws what <see cref="Process.Start()"/> throws (Win32Exception: no such program).
    /// </summary>
    public Process Start(ProcessStartInfo startInfo)
    {
        startInfo.RedirectStandardOutput = true;
        startInfo.RedirectStandardError = true;
        startInfo.RedirectStandardInput = true;
        startInfo.UseShellExecute = false;
        var process = new Process { StartInfo = startInfo };
        process.OutputDataReceived += (_, e) => Append(e.Data);
        process.ErrorDataReceived += (_, e) => Append(e.Data);
        try
        {
            process.Start();
        }
        catch
        {
            process.Dispose();
            throw;
        }
        process.StandardInput.Close();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    public void Append(string? line)
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
                _file.WriteLine(line);
            }
            catch (ObjectDisposedException)
            {
                // A late line after dispose; the tail still has it.
            }
        }
    }

    public string Tail()
    {
        lock (_lock)
        {
            return string.Join('\n', _tail);
        }
    }

    public void Dispose()
    {
        lock (_lock)
        {
            _file.Dispose();
        }
    }
}
