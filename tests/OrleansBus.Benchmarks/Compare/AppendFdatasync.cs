using System.Diagnostics;
using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace OrleansBus.Benchmarks.Compare;

/// <summary>
/// The latency floor under every "fsync" acknowledgement on this machine: a new file, then repeatedly one 1 KiB
/// write at its end followed by fdatasync (the file grows, so each sync also writes its new size, as a log's does).
/// Our silo syncs with fdatasync too (Silo/Storage/NativeFile.cs); .NET itself only offers fsync.
/// </summary>
internal static class AppendFdatasync
{
    private const int AppendBytes = 1024;

    // DllImport, not LibraryImport: the generated stub needs AllowUnsafeBlocks, which this project does not set.
    // One int in, one int out: nothing to marshal.
    [DllImport("libc", SetLastError = true)]
    private static extern int fdatasync(int fd);

    /// <summary>Up to <paramref name="appends"/> timed appends, fewer if <paramref name="cap"/> passes first; deletes the file.</summary>
    public static (LatencySummary Ms, int Count) Measure(string path, int appends, TimeSpan cap)
    {
        var latency = new LatencyRecorder(appends);
        var data = new byte[AppendBytes];
        data.AsSpan().Fill((byte)'a');
        var count = 0;
        try
        {
            using var handle = File.OpenHandle(path, FileMode.CreateNew, FileAccess.ReadWrite);
            var deadline = Stopwatch.GetTimestamp() + (long)(cap.TotalSeconds * Stopwatch.Frequency);
            for (; count < appends && Stopwatch.GetTimestamp() < deadline; count++)
            {
                var started = Stopwatch.GetTimestamp();
                RandomAccess.Write(handle, data, (long)count * AppendBytes);
                DataSync(handle);
                latency.Record(Stopwatch.GetTimestamp() - started);
            }
        }
        catch (IOException e)
        {
            Console.Error.WriteLine($"append + fdatasync stopped after {count}: {e.Message}");
        }
        finally
        {
            File.Delete(path);
        }
        return (LatencyRecorder.Summarize([latency]), count);
    }

    public static void DataSync(SafeFileHandle handle)
    {
        if (!OperatingSystem.IsLinux())
        {
            RandomAccess.FlushToDisk(handle); // fsync elsewhere: the benchmark's figures are for Linux
            return;
        }
        var added = false;
        handle.DangerousAddRef(ref added);
        try
        {
            if (fdatasync((int)handle.DangerousGetHandle()) != 0)
            {
                var errno = Marshal.GetLastPInvokeError();
                throw new IOException($"fdatasync failed with errno {errno}.", errno);
            }
        }
        finally
        {
            if (added)
                handle.DangerousRelease();
        }
    }
}
