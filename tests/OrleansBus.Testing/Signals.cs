using System.Diagnostics;
using System.Runtime.InteropServices;

namespace OrleansBus.Testing;

/// <summary>POSIX signals for child processes we started; .NET only offers SIGKILL (Process.Kill).</summary>
internal static partial class Signals
{
    private const int SigTerm = 15;

    /// <summary>Sends SIGTERM, the graceful stop a container orchestrator sends. False if the process is gone.</summary>
    public static bool Terminate(int pid)
    {
        // libc directly rather than /bin/kill: procps is not on every minimal image.
        return Kill(pid, SigTerm) == 0;
    }

    /// <summary>SIGKILL if <paramref name="process"/> is still running; for ProcessExit hooks, where one already gone is no error.</summary>
    public static void KillIfRunning(Process? process)
    {
        try
        {
            if (process is { HasExited: false })
            {
                process.Kill();
            }
        }
        catch (InvalidOperationException)
        {
            // Already gone, or disposed by the fixture meanwhile.
        }
    }

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static extern int Kill(int pid, int signal);
}
