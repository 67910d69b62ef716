using System.Globalization;

namespace OrleansBus.AppHost.Tests;

/// <summary>
/// What an AppHost started, read from /proc: Aspire's orchestrator (<c>dcp start-apiserver --monitor &lt;AppHost pid&gt;</c>,
/// detached from the AppHost) and everything below it — PostgreSQL, Azurite, every silo and the gateway.
/// </summary>
internal static class ProcessTree
{
    /// <summary>The orchestrators watching <paramref name="appHostPid"/>, and all their descendants.</summary>
    public static IReadOnlyList<(int Pid, string Command)> StartedBy(int appHostPid)
    {
        var processes = Snapshot();
        var roots = processes.Where(p => IsOrchestratorOf(p.Command, appHostPid)).Select(p => p.Pid).ToHashSet();
        var tree = new HashSet<int>(roots);
        for (var grew = true; grew;)
        {
            grew = false;
            foreach (var p in processes)
            {
                if (!tree.Contains(p.Pid) && tree.Contains(p.Parent))
                    grew = tree.Add(p.Pid) | grew;
            }
        }
        return processes.Where(p => tree.Contains(p.Pid)).Select(p => (p.Pid, p.Command)).ToList();
    }

    /// <summary>Running and not a zombie (a reparented postmaster may wait for an init that never reaps it).</summary>
    public static bool IsAlive(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var close = stat.LastIndexOf(')');
            return close > 0 && close + 2 < stat.Length && stat[close + 2] != 'Z';
        }
        catch (IOException)
        {
            return false;
        }
    }

    /// <summary>Those of <paramref name="processes"/> still alive after up to <paramref name="timeout"/>.</summary>
    public static async Task<List<(int Pid, string Command)>> SurvivorsAsync(IEnumerable<(int Pid, string Command)> processes, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var alive = processes.Where(p => IsAlive(p.Pid)).ToList();
            if (alive.Count == 0 || DateTime.UtcNow > deadline)
                return alive;
            await Task.Delay(250);
        }
    }

    private static bool IsOrchestratorOf(string command, int appHostPid)
    {
        var words = command.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        var monitor = Array.IndexOf(words, "--monitor");
        return words.Length > 1 && Path.GetFileName(words[0]) == "dcp" && words[1] == "start-apiserver"
            && monitor > 0 && monitor + 1 < words.Length && words[monitor + 1] == appHostPid.ToString(CultureInfo.InvariantCulture);
    }

    private static List<(int Pid, int Parent, string Command)> Snapshot()
    {
        var result = new List<(int, int, string)>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out var pid))
                continue;
            try
            {
                var stat = File.ReadAllText(Path.Combine(dir, "stat"));
                var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                var command = File.ReadAllText(Path.Combine(dir, "cmdline")).Replace('\0', ' ').Trim();
                result.Add((pid, int.Parse(fields[1], CultureInfo.InvariantCulture), command));
            }
            catch (IOException)
            {
                // gone meanwhile
            }
        }
        return result;
    }
}
