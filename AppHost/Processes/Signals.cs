using System.Runtime.InteropServices;

namespace OrleansBus.AppHost.Processes;

/// <summary>POSIX signals to a PID this launcher started; .NET itself only offers SIGKILL (Process.Kill).</summary>
internal static partial class Signals
{
    public const int SigTerm = 15;
    private const int NoSignal = 0;

    /// <summary>Sends <paramref name="signal"/>; false if the process is gone (or not ours to signal).</summary>
    public static bool Send(int pid, int signal) => Kill(pid, signal) == 0;

    /// <summary>
    /// True while <paramref name="pid"/> runs. A zombie (exited, not yet reaped by a parent that is not us,
    /// as with the daemonized postmaster) counts as gone.
    /// </summary>
    public static bool IsAlive(int pid)
    {
        if (Kill(pid, NoSignal) != 0)
        {
            return false;
        }
        try
        {
            // /proc/<pid>/stat: "pid (comm) S ..."; the state letter follows the last ')'.
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var close = stat.LastIndexOf(')');
            return close < 0 || close + 2 >= stat.Length || stat[close + 2] != 'Z';
        }
        catch (IOException)
        {
            return false;
        }
    }

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static extern int Kill(int pid, int signal);
}
