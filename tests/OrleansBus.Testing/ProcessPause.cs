using System.Runtime.InteropServices;

namespace OrleansBus.Testing;

/// <summary>
/// SIGSTOP and SIGCONT for a child process the test started (by its PID): a stopped silo keeps its sockets open but
/// answers nothing and sends no heartbeat, which makes a replica lag deterministically. Linux signal numbers.
/// </summary>
public static class ProcessPause
{
    private const int SigCont = 18;
    private const int SigStop = 19;

    public static void Stop(int pid) => Send(pid, SigStop, "SIGSTOP");

    public static void Continue(int pid) => Send(pid, SigCont, "SIGCONT");

    private static void Send(int pid, int signal, string name)
    {
        if (Kill(pid, signal) != 0)
            throw new InvalidOperationException($"{name} to pid {pid} failed (errno {Marshal.GetLastPInvokeError()}).");
    }

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static extern int Kill(int pid, int signal);
}
