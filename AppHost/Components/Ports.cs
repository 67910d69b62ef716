using System.Net;
using System.Net.Sockets;

namespace OrleansBus.AppHost.Components;

/// <summary>Checks every port before anything starts, so a clash fails at once and leaves nothing running.</summary>
internal static class Ports
{
    /// <summary>The first port of <paramref name="options"/> that something else already holds, or null.</summary>
    public static (int Port, string Option, string Owner)? FirstInUse(ClusterOptions options)
    {
        foreach (var entry in options.Ports())
        {
            if (!IsFree(entry.Port))
            {
                return entry;
            }
        }
        return null;
    }

    private static bool IsFree(int port)
    {
        try
        {
            using var listener = new TcpListener(IPAddress.Loopback, port);
            listener.Start();
            listener.Stop();
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}
