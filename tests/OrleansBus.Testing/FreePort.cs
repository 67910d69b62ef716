using System.Net;
using System.Net.Sockets;

namespace OrleansBus.Testing;

/// <summary>Finds an unused loopback TCP port below the kernel's ephemeral range.</summary>
/// <remarks>
/// The port is released before the caller binds it. A port the kernel handed out (bind to port 0) lies in
/// the ephemeral range, where any outgoing connection on the machine — a silo's own connection to
/// PostgreSQL, say — may take it as its local port in that window; CI lost a run to exactly that. Below the
/// range only explicit binds compete, so ports are drawn at random there and checked. A fixture asks for
/// several at once (a silo needs its HTTP and two Orleans ports before any of them is bound), so no port is
/// returned twice by this process.
/// </remarks>
public static class FreePort
{
    private const int Lowest = 10_000;
    private static readonly HashSet<int> Given = [];

    public static int Get()
    {
        var below = EphemeralRangeStart();
        for (var attempt = 0; attempt < 1000; attempt++)
        {
            var port = Random.Shared.Next(Lowest, below);
            lock (Given)
            {
                if (Given.Contains(port) || !IsFree(port))
                    continue;
                Given.Add(port);
                return port;
            }
        }
        throw new InvalidOperationException($"No free loopback port in {Lowest}..{below - 1} after 1000 tries.");
    }

    public static bool IsFree(int port)
    {
        try
        {
            using var listener = new TcpListener(IPAddress.Loopback, port);
            listener.Start();
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    /// <summary>The first port the kernel may pick for an outgoing connection (Linux: ip_local_port_range).</summary>
    private static int EphemeralRangeStart()
    {
        const string range = "/proc/sys/net/ipv4/ip_local_port_range";
        if (File.Exists(range)
            && int.TryParse(File.ReadAllText(range).Split((char[])['\t', ' ', '\n'], StringSplitOptions.RemoveEmptyEntries)[0], out var start)
            && start > Lowest + 1000)
            return start;
        return 32_768;
    }
}
