using System.Net;
using System.Net.Sockets;

namespace OrleansBus.Testing;

/// <summary>Asks the kernel for an unused loopback TCP port.</summary>
/// <remarks>
/// The port is released before the caller binds it, so another process could take it in between;
/// on a test machine that window is small enough, and every fixture reports a failed bind loudly.
/// The kernel may hand a just-released port out again, though, and a fixture asks for several at once
/// (a silo needs its HTTP and two Orleans ports before any of them is bound), so no port is returned
/// twice by this process.
/// </remarks>
public static class FreePort
{
    private static readonly HashSet<int> Given = [];

    public static int Get()
    {
        for (var attempt = 0; attempt < 1000; attempt++)
        {
            using var listener = new TcpListener(IPAddress.Loopback, 0);
            listener.Start();
            var port = ((IPEndPoint)listener.LocalEndpoint).Port;
            lock (Given)
            {
                if (Given.Add(port))
                    return port;
            }
        }
        throw new InvalidOperationException("No loopback port that this test process has not handed out already.");
    }
}
